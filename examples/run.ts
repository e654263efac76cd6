/**
 * Runs an example by name: `pnpm example <name>` runs `examples/<name>.ts`.
 * Each example module exports `main`, an Effect with all its layers provided.
 * A failure prints one line (the typed error and its message) and exits 1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { failureLine } from "./support/failure.js"

const here = fileURLToPath(new URL(".", import.meta.url))
const names = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".d.ts"))
  .map((f) => f.slice(0, -3))
  .sort()

const name = process.argv[2]
if (name === undefined || !names.includes(name)) {
  console.error(
    `${name === undefined ? "Name an example" : `No example named "${name}"`}. Run one of:\n${
      names.map((n) => `  pnpm example ${n}`).join("\n")
    }`
  )
  process.exitCode = 2
} else {
  import(`./${name}.ts`).then(
    ({ main }: { main: Effect.Effect<unknown, unknown> }) =>
      NodeRuntime.runMain(
        Effect.tapErrorCause(main, (cause) =>
          Effect.sync(() => {
            const line = failureLine(cause)
            if (line !== undefined) console.error(`pnpm example ${name}: ${line}`)
          })),
        // The line above is the report; runMain still exits 1 on failure.
        { disableErrorReporting: true }
      ),
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
