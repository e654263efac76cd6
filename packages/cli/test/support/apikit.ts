/** Runs `apikit <args>` in-process with `stdin`, capturing stdout, stderr and the exit code. */
import { Cli, Stdin } from "@apikit/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { type Console, Effect, Layer } from "effect"

export const apikit = (args: ReadonlyArray<string>, stdin?: string) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const base = yield* Effect.console
    const console: Console.Console = {
      ...base,
      log: (...xs) => Effect.sync(() => void out.push(xs.join(" "))),
      error: (...xs) => Effect.sync(() => void err.push(xs.join(" ")))
    }
    const code = yield* Cli.run(["node", "apikit", ...args]).pipe(
      Effect.withConsole(console),
      Effect.provide(Layer.merge(NodeContext.layer, Stdin.Stdin.layerTest(stdin)))
    )
    return { code, stdout: out.join("\n"), stderr: err.join("\n") }
  })
