/**
 * What the `apikit` executable runs, loaded by `bin.ts` once Node's compile
 * cache is on.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Cli from "../Cli.js"
import { Stdin } from "../Stdin.js"

Cli.run(process.argv).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, Stdin.layer)),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    // Ctrl-C (e.g. stopping `apikit sandbox`) is an interruption: exit 130, as shells expect.
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : Exit.isInterrupted(exit) ? 130 : 1
      )
  })
)
