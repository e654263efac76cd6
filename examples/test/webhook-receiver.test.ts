import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { main } from "../webhook-receiver.js"

describe("examples/webhook-receiver", () => {
  it.live(
    "handles the three signed events in order and refuses a forged delivery with 401",
    () =>
      Effect.gen(function*() {
        const lines = yield* main
        expect(lines).toEqual([
          "created prj_1 Apollo",
          "renamed prj_1 to Apollo 11",
          "deleted prj_1",
          "forged delivery: 401"
        ])
      }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)),
    { timeout: 20_000 }
  )
})
