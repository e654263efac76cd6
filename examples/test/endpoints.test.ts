import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { main } from "../endpoints.js"

describe("examples/endpoints", () => {
  it.effect("maps the Sandbox API with HttpApi: declared errors typed, pages followed", () =>
    Effect.gen(function*() {
      const lines = yield* main
      expect(lines).toEqual([
        "created prj_1 Apollo",
        "created prj_2 Gemini",
        "created prj_3 Mercury",
        "created prj_4 Skylab",
        "created prj_5 Voyager",
        "NameTaken (declared 409): A project named \"Apollo\" already exists; choose another name",
        "ValidationFailed (declared 422): name must not be blank",
        "ProjectNotFound (declared 404): No project prj_404; list them with GET /v1/projects",
        "archived prj_1: archived",
        expect.stringMatching(/^first page: Apollo, Gemini \(next cursor \S+\)$/),
        "all pages: Apollo, Gemini, Mercury, Skylab, Voyager"
      ])
    }))
})
