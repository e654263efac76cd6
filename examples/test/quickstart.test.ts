import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { main } from "../quickstart.js"

describe("examples/quickstart", () => {
  it.effect("prints a success and one line per typed error", () =>
    Effect.gen(function*() {
      const lines = yield* main
      expect(lines).toEqual([
        "GET    ok: Apollo",
        "POST   ok: created p_2 (Gemini)",
        "NotFound: nothing there (request id req_404)",
        "BadRequest: name must not be empty",
        "Conflict: that name is taken",
        "RateLimited: retry in 30s (0/100 left)",
        expect.stringMatching(/^DecodeError: .*\["id"\].*Expected string, actual 42/)
      ])
    }))
})
