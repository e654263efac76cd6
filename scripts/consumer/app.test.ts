// A user's own test: MockHttp instead of the network, TestClock instead of time.
import { ApiClient } from "@apikit/http"
import { Retry } from "@apikit/retry"
import { MockHttp } from "@apikit/testing"
import { expect, it } from "@effect/vitest"
import { Effect, Fiber, Schema, TestClock } from "effect"

it.effect("a 503, one second of virtual backoff, then the project", () =>
  Effect.gen(function*() {
    const api = yield* ApiClient.make({
      baseUrl: "https://projects.test/v1",
      retry: Retry.transient({ times: 2, base: "1 second", jitter: "none" })
    })
    const fiber = yield* Effect.fork(api.get("/projects/p_1", { success: Schema.Struct({ id: Schema.String }) }))
    yield* TestClock.adjust("999 millis")
    expect(yield* MockHttp.count()).toBe(1)
    yield* TestClock.adjust("1 millis")
    expect(yield* Fiber.join(fiber)).toEqual({ id: "p_1" })
    expect(yield* MockHttp.count()).toBe(2)
  }).pipe(
    Effect.provide(MockHttp.layer([
      MockHttp.get(
        "https://projects.test/v1/projects/p_1",
        MockHttp.sequence(MockHttp.status(503), MockHttp.json(200, { id: "p_1" }))
      )
    ]))
  ))
