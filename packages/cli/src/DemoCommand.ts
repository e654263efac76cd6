/**
 * `apikit demo` (what `pnpm start` runs): the flagship demo against an
 * embedded Sandbox with faults on, with a live progress bar on a terminal
 * (plain periodic lines otherwise) and a summary table. Exits 1 when an
 * invariant fails, 2 on a usage error.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"

/**
 * `apikit demo [--count N] [--concurrency N] [--faults SPEC] [--limit N] [--seed N]`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("demo", {
  count: Options.integer("count").pipe(Options.withDefault(200), Options.withDescription("projects to create")),
  concurrency: Options.integer("concurrency").pipe(
    Options.withDefault(20),
    Options.withDescription("creates in flight at once")
  ),
  faults: Options.text("faults").pipe(
    Options.withDefault("5xx=0.1,reset=0.02,hang=0.01,burst=0.005"),
    Options.withDescription("faults the sandbox injects, e.g. 5xx=0.1,reset=0.02,hang=0.01,latency=20ms; none for none")
  ),
  limit: Options.integer("limit").pipe(
    Options.withDefault(20),
    Options.withDescription("the sandbox's rate limit, requests per second")
  ),
  seed: Options.integer("seed").pipe(
    Options.optional,
    Options.withDescription("seeds the sandbox's faults (default 42)")
  )
}, (args) =>
  // Loaded on use: the demo pulls in the sandbox, undici and every policy package.
  Effect.flatMap(Effect.promise(() => import("./demo/command.js")), (body) => body.run(args))).pipe(
    Command.withDescription(
      "Create many projects concurrently through the full pipeline against a faulty sandbox, verify its webhooks, check the invariants."
    )
  )
