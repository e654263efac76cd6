import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { main } from "../create-project.js"

describe("examples/create-project", () => {
  it.live("creates idempotently through OAuth and 5xx faults; typed errors for a taken name and a blank one", () =>
    Effect.gen(function*() {
      const lines = yield* main
      expect(lines).toEqual([
        "created prj_1 Apollo (active)",
        "created prj_2 Gemini (active)",
        "Conflict: \"Apollo\" is taken; pick another name",
        "BadRequest 422: name must not be blank",
        "created prj_3 Mercury (active)",
        "created prj_3 Mercury (active)",
        expect.stringMatching(/^server: 3 created, 0 duplicates, [1-9]\d* 5xx absorbed by retry, 1 token issued$/)
      ])
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning)))
})
