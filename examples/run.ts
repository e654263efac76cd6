/**
 * Runs an example by name: `pnpm example <name>` runs `examples/<name>.ts`.
 * Each example module exports `main`, an Effect with all its layers provided.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { Effect } from "effect"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

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
    ({ main }: { main: Effect.Effect<unknown, unknown> }) => NodeRuntime.runMain(main),
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
