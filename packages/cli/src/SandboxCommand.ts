/**
 * `apikit sandbox`: runs the Sandbox (a realistic fake third-party API) on
 * 127.0.0.1 until Ctrl-C, and prints how to call it.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"

/**
 * `apikit sandbox [--port N] [--faults SPEC] [--seed N]`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("sandbox", {
  port: Options.integer("port").pipe(
    Options.withDefault(0),
    Options.withDescription("the port on 127.0.0.1 (0: a free one)")
  ),
  faults: Options.text("faults").pipe(
    Options.withDefault("none"),
    Options.withDescription("faults to inject, e.g. 5xx=0.1,reset=0.02,hang=0.01,burst=0.01,latency=50ms")
  ),
  seed: Options.integer("seed").pipe(Options.optional, Options.withDescription("seeds faults, tokens and secrets"))
}, (args) =>
  // Loaded on use: the sandbox pulls in the HTTP server and client.
  Effect.flatMap(Effect.promise(() => import("./demo/sandbox.js")), (body) => body.run(args))).pipe(
    Command.withDescription("Run the Sandbox, a realistic fake third-party API, on 127.0.0.1 until Ctrl-C.")
  )
