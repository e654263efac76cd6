import { ApiError } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"
import { Duration } from "effect"

describe("ApiError", () => {
  it("the union, its Schema and isApiError come from one list of 16 classes", () => {
    const tags = ApiError.classes.map((c) => c._tag)
    expect(new Set(tags).size).toBe(16)
    expect(ApiError.ApiError.members.map((m) => m._tag)).toEqual(tags)
    for (const tag of tags) expect(ApiError.isApiError({ _tag: tag })).toBe(true)
    expect(ApiError.isApiError({ _tag: "SomethingElse" })).toBe(false)
  })

  it("a message with an infinite or overlong Duration in it renders instead of throwing", () => {
    const at = { method: "GET", url: "https://api.example.com/v1/x" }
    const never = Duration.infinity
    const messages = [
      new ApiError.RateLimited({ ...at, reason: "TooManyRequests", retryAfter: never }).message,
      // Finite, but too long for Duration.format (it counts in nanoseconds): from a fuzzed GraphQL cost report.
      new ApiError.RateLimited({ ...at, reason: "TooManyRequests", retryAfter: Duration.millis(1.8e299) }).message,
      new ApiError.CircuitOpen({ ...at, key: "k", retryAfter: never }).message,
      new ApiError.Timeout({ ...at, reason: "Attempt", after: never }).message,
      new ApiError.Timeout({ ...at, reason: "Deadline", after: never }).message,
      new ApiError.AuthError({ reason: "TokenEndpointUnavailable", key: "k", transient: true, retryAfter: never })
        .message
    ]
    for (const message of messages) expect(message).toContain("an unbounded time")
    expect(new ApiError.CircuitOpen({ ...at, key: "k", retryAfter: Duration.seconds(5) }).message).toContain("5s")
  })
})
