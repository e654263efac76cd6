/**
 * Interruption: calls interrupted at any point (during backoff, while holding a
 * bulkhead permit, as the half-open probe) must give back what they hold. The
 * checks are behavioural: after the interruptions, the full capacity is
 * admitted again (bulkhead) and the circuit admits a probe (breaker).
 */
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Random, TestClock } from "effect"

const routes = [
  MockHttp.get("/hang", MockHttp.hang),
  MockHttp.get("/fail", MockHttp.status(503)),
  MockHttp.get("/ok", MockHttp.json(200, { ok: true })),
  MockHttp.get("/slow", MockHttp.delay("700 millis", MockHttp.json(200, { ok: true })))
]
const layers = Layer.mergeAll(MockHttp.layer(routes), RateLimit.layerMemory, CircuitBreakerStore.layerMemory)

const setup = Effect.gen(function*() {
  const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(3), openDuration: "1 second" })
  const api = yield* ApiClient.make({
    baseUrl: "https://api.example.com",
    name: "svc",
    rateLimit: yield* RateLimit.make({ limit: 1000, window: "1 second", bulkhead: { maxConcurrent: 2, maxQueue: 2 } }),
    circuitBreaker: breaker,
    retry: Retry.transient({ times: 3, base: "1 second", jitter: "none" })
  })
  return { api, breaker }
})

/** The bulkhead admits exactly 2 running + 2 queued calls, and refuses the fifth. */
const bulkheadIsWhole = (api: ApiClient.ApiClient) =>
  Effect.gen(function*() {
    const held = yield* Effect.forEach([1, 2, 3, 4], () => Effect.fork(Effect.either(api.get("/hang"))))
    yield* TestClock.adjust("1 millis")
    const fifth = yield* Effect.either(api.get("/hang"))
    expect(Either.isLeft(fifth) && fifth.left._tag === "RateLimited" && fifth.left.reason).toBe("BulkheadFull")
    for (const fiber of held) expect(fiber.unsafePoll()).toBeNull() // all four admitted, still waiting
    yield* Effect.forEach(held, Fiber.interrupt)
  })

describe("interruption gives back every permit and probe", () => {
  it.scoped("interrupted while holding bulkhead permits", () =>
    Effect.gen(function*() {
      const { api } = yield* setup
      const fibers = yield* Effect.forEach([1, 2, 3, 4], () => Effect.fork(api.get("/hang")))
      yield* TestClock.adjust("10 millis")
      yield* Effect.forEach(fibers, Fiber.interrupt)
      yield* bulkheadIsWhole(api)
    }).pipe(Effect.provide(layers)))

  it.scoped("interrupted during retry backoff", () =>
    Effect.gen(function*() {
      const { api } = yield* setup
      const fibers = yield* Effect.forEach([1, 2], () => Effect.fork(api.get("/fail")))
      yield* TestClock.adjust("500 millis") // mid-way through the 1 s backoff
      yield* Effect.forEach(fibers, Fiber.interrupt)
      yield* bulkheadIsWhole(api)
    }).pipe(Effect.provide(layers)))

  it.scoped("an interrupted half-open probe does not leave the circuit stuck", () =>
    Effect.gen(function*() {
      const { breaker } = yield* setup
      // A client without retry on the same breaker: three 503s open the circuit.
      const api = yield* ApiClient.make({ baseUrl: "https://api.example.com", name: "svc", circuitBreaker: breaker })
      for (let i = 0; i < 3; i++) yield* Effect.either(api.get("/fail"))
      expect((yield* breaker.state("svc")).state).toBe("Open")
      yield* TestClock.adjust("1 second")
      // The probe hangs, and is interrupted.
      const probe = yield* Effect.fork(api.get("/hang"))
      yield* TestClock.adjust("10 millis")
      expect((yield* breaker.state("svc")).state).toBe("HalfOpen")
      yield* Fiber.interrupt(probe)
      // The next call is admitted as the probe at once and closes the circuit.
      expect(yield* api.get("/ok")).toEqual({ ok: true })
      expect((yield* breaker.state("svc")).state).toBe("Closed")
    }).pipe(Effect.provide(layers)))

  it.scoped("interrupted at random points: afterwards, everything is whole", () =>
    Effect.gen(function*() {
      const { api, breaker } = yield* setup
      const paths = ["/hang", "/fail", "/ok", "/slow"] as const
      for (let trial = 0; trial < 100; trial++) {
        const count = yield* Random.nextIntBetween(1, 6)
        const fibers = yield* Effect.forEach(
          Array.from({ length: count }),
          () =>
            Effect.flatMap(
              Random.nextIntBetween(0, paths.length),
              (i) => Effect.fork(Effect.either(api.get(paths[i]!)))
            )
        )
        yield* TestClock.adjust(`${yield* Random.nextIntBetween(0, 3000)} millis`)
        yield* Effect.forEach(fibers, Fiber.interrupt)
      }
      // Let any open circuit reach half-open, then check both resources.
      yield* TestClock.adjust("2 seconds")
      expect(yield* api.get("/ok")).toEqual({ ok: true })
      expect((yield* breaker.state("svc")).state).toBe("Closed")
      yield* bulkheadIsWhole(api)
    }).pipe(Effect.provide(layers), Effect.withRandom(Random.make(42))))
})
