/**
 * Runs an example by name: `pnpm example <name>`. Each example module exports
 * `main`, an Effect with all its layers provided.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { Effect } from "effect"

const examples: Record<string, () => Promise<{ main: Effect.Effect<unknown, unknown> }>> = {
  quickstart: () => import("./quickstart.js")
}

const name = process.argv[2]
const load = name === undefined ? undefined : examples[name]
if (load === undefined) {
  console.error(
    `${name === undefined ? "Name an example" : `No example named "${name}"`}. Run one of:\n${
      Object.keys(examples).map((n) => `  pnpm example ${n}`).join("\n")
    }`
  )
  process.exitCode = 2
} else {
  load().then(({ main }) => NodeRuntime.runMain(main), (error) => {
    console.error(error)
    process.exitCode = 1
  })
}
