import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { main } from "../two-apis.js"

describe("examples/two-apis", () => {
  it.live("the billing breaker opens after three 5xx and fails fast; projects are unaffected", () =>
    Effect.gen(function*() {
      const lines = yield* main
      expect(lines.filter((l) => l.startsWith("projects:"))).toEqual(
        [1, 2, 3, 4, 5].map((i) => `projects: created prj_${i} Project ${i}`)
      )
      expect(lines.filter((l) => l.startsWith("billing"))).toEqual([
        expect.stringMatching(/^billing call 1: ServerError 50\d$/),
        expect.stringMatching(/^billing call 2: ServerError 50\d$/),
        expect.stringMatching(/^billing call 3: ServerError 50\d$/),
        "billing call 4: CircuitOpen, not sent (next probe in 30 s)",
        "billing call 5: CircuitOpen, not sent (next probe in 30 s)"
      ])
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)))
})
