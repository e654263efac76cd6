import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { main } from "../custom-provider.js"

describe("examples/custom-provider", () => {
  it.live("calls with an API key; verifies the provider's HMAC scheme, deduplicates, refuses a tampered body", () =>
    Effect.gen(function*() {
      expect(yield* main).toEqual([
        "API key call: created prj_1",
        "handled invoice.paid inv_1 (4200)",
        "signed delivery: 200",
        "same delivery again (deduplicated): 200",
        "tampered amount: 401"
      ])
    }).pipe(Logger.withMinimumLogLevel(LogLevel.Error)))
})
