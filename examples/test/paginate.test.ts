import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { main } from "../paginate.js"

describe("examples/paginate", () => {
  it.live("reads every page by cursor and by Link header, and stops early with Stream.take", () =>
    Effect.gen(function*() {
      const all = "Apollo, Gemini, Mercury, Skylab, Voyager, Pioneer, Viking"
      expect(yield* main).toEqual([
        `cursor: ${all} (4 requests)`,
        `link:   ${all} (3 requests)`,
        "first 3 by cursor: Apollo, Gemini, Mercury (2 requests)"
      ])
    }))
})
