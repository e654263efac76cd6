/**
 * The `apikit` command: a root with one subcommand per tool (`webhooks` now;
 * `sandbox` and `demo` are added the same way), and the mapping of outcomes
 * to exit codes: 0 success, 1 a negative answer (an invalid signature), 2 a usage error.
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as DemoCommand from "./DemoCommand.js"
import * as GenerateCommand from "./GenerateCommand.js"
import * as SandboxCommand from "./SandboxCommand.js"
import type { Stdin } from "./Stdin.js"
import * as WebhooksCommand from "./WebhooksCommand.js"

/**
 * The root command. Add a tool with `Command.withSubcommands`.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("apikit").pipe(
  Command.withDescription("apikit: tools for integrating with third-party HTTP APIs."),
  Command.withSubcommands([
    WebhooksCommand.command,
    SandboxCommand.command,
    DemoCommand.command,
    GenerateCommand.command
  ])
)

/**
 * Runs the CLI on `argv` (as `process.argv`: node, script, then arguments) and
 * returns the exit code. Usage errors were already printed by @effect/cli.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, CliApp.CliApp.Environment | Stdin> =>
  Command.run(root, { name: "apikit", version: "0.1.0" })(argv).pipe(
    Effect.as(0),
    Effect.catchAll((e) =>
      Effect.succeed(
        ValidationError.isValidationError(e) ? 2 : e._tag === "ExitCode" ? e.code : 1
      )
    )
  )
