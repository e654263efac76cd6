import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { main } from "../graphql.js"

describe("examples/graphql", () => {
  it.live("creates, streams, types the errors and turns THROTTLED into waits", () =>
    Effect.gen(function*() {
      expect(yield* main).toEqual([
        "created 9 projects with createProject",
        "streamed 9 projects in 3 requests: Apollo, Gemini, Mercury, Skylab, Voyager, Pioneer, Viking, Cassini, Juno",
        "missing project: NotFound",
        "duplicate name:  GraphQLError(Execution: CONFLICT)",
        "broken document: GraphQLError(Syntax: -)",
        "8 queries of 21 points on a 60-point budget: 8 succeeded, 0 failed"
      ])
    }), 60_000)
})
