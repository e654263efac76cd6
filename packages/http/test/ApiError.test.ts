import { ApiError } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"

describe("ApiError", () => {
  it("the union, its Schema and isApiError come from one list of 16 classes", () => {
    const tags = ApiError.classes.map((c) => c._tag)
    expect(new Set(tags).size).toBe(16)
    expect(ApiError.ApiError.members.map((m) => m._tag)).toEqual(tags)
    for (const tag of tags) expect(ApiError.isApiError({ _tag: tag })).toBe(true)
    expect(ApiError.isApiError({ _tag: "SomethingElse" })).toBe(false)
  })
})
