/**
 * Adaptive mode in virtual time (TestClock, MockHttp): in-flight accounting,
 * out-of-order answers, resets in the past and far in the future, headers that
 * lie, disagree or are garbage, the learned limit, weighted costs and reports.
 */
import { ApiClient, ApiError } from "@apikit/http"
import { QuotaStore, RateLimit } from "@apikit/rate-limit"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Metric, TestClock } from "effect"

const base = "https://api.example.com/v1"

const withRoutes = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), Capture.layer, RateLimit.layerMemory))

/**
 * A server with a fixed window per first request (as express-rate-limit and
 * @fastify/rate-limit keep it): `limit` per `window` ms, IETF draft-8 headers,
 * 429 with Retry-After beyond. Each answer takes `latency(n)` ms, so answers
 * come back out of order.
 */
const fixedWindowServer = (limit: number, window: number, latency: (n: number) => number) => {
  const sent: Array<number> = []
  const refused: Array<number> = []
  let start = -Infinity
  let count = 0
  const handler = () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const n = sent.push(now)
      if (now >= start + window) {
        start = now
        count = 0
      }
      count++
      const t = Math.ceil((start + window - now) / 1000)
      const headers = {
        "ratelimit-policy": `"w";q=${limit};w=${window / 1000}`,
        "ratelimit": `"w";r=${Math.max(0, limit - count)};t=${t}`
      }
      yield* Effect.sleep(Duration.millis(latency(n)))
      if (count > limit) {
        refused.push(now)
        return MockHttp.status(429, { ...headers, "retry-after": String(t) })
      }
      return MockHttp.json(200, {}, headers)
    })
  return { sent, refused, handler }
}

/** Runs `effect` in a fiber while the TestClock moves in 10 ms steps for `millis`. */
const runFor = <A, E>(effect: Effect.Effect<A, E>, millis: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let t = 0; t < millis; t += 10) yield* TestClock.adjust("10 millis")
    return yield* Fiber.join(fiber)
  })

const flipNow = <A>(effect: Effect.Effect<A, ApiError.ApiError>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.flip(effect))
    yield* TestClock.adjust(0)
    return yield* Fiber.join(fiber)
  })

describe("RateLimit adaptive", () => {
  it.effect(
    "in flight: admits remaining minus calls in flight; no 429, every window full (limit 5, configured 50)",
    () => {
      const server = fixedWindowServer(5, 1000, (n) => 20 + ((n * 37) % 80))
      return Effect.gen(function*() {
        const api = yield* ApiClient.make({
          baseUrl: base,
          rateLimit: yield* RateLimit.make({ key: "k", limit: 50, window: "1 second", adaptive: true })
        })
        yield* runFor(Effect.forEach(Array.from({ length: 20 }), () => api.get("/x"), { concurrency: 5 }), 5000)
        expect(server.refused).toEqual([])
        expect(server.sent).toHaveLength(20)
        // Four windows of five: each one starts when the last reset passes.
        expect(server.sent[19]! - server.sent[0]!).toBeLessThan(4000)
        const avoided = yield* Metric.value(Metric.tagged(RateLimit.metrics.avoided, "key", "k"))
        expect(avoided.count).toBeGreaterThan(0)
        // The configured limit was 10x the server's: said once.
        const capture = yield* Capture.Capture
        expect(capture.logs.filter((l) => String(l.message).includes("less than configured"))).toHaveLength(1)
      }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
    },
    30_000
  ) // the TestClock moves in 10 ms steps

  it.effect("out of order: a stale answer with more remaining does not re-open the gate", () => {
    // Call 1 is answered last (after 300 ms) with r=4; call 2 first (10 ms) with r=0.
    let n = 0
    const sent: Array<number> = []
    const handler = () =>
      Effect.gen(function*() {
        sent.push(yield* Clock.currentTimeMillis)
        const mine = ++n
        yield* Effect.sleep(mine === 1 ? "300 millis" : "10 millis")
        return MockHttp.json(200, {}, {
          "x-ratelimit-limit": "5",
          "x-ratelimit-remaining": mine === 1 ? "4" : "0",
          "x-ratelimit-reset": "2"
        })
      })
    return Effect.gen(function*() {
      const start = Date.UTC(2026, 0, 1)
      yield* TestClock.setTime(start)
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 second", adaptive: true })
      })
      yield* runFor(Effect.all([api.get("/x"), api.get("/x")], { concurrency: 2 }), 400)
      yield* runFor(api.get("/x"), 3000)
      // The third call waited for call 2's reset (2 s after its answer at 10 ms), despite call 1's r=4.
      expect(sent.map((t) => t - start)).toEqual([0, 0, 2010])
    }).pipe(withRoutes([MockHttp.get("/v1/x", handler)]))
  })

  it.effect(
    "an interrupted call stays counted in its window; a window nobody answered is held one more window",
    () => {
      // The server's 2nd and 4th arrivals take a minute to answer, and are interrupted first; the others 10 ms.
      const server = fixedWindowServer(2, 1000, (n) => n === 2 || n === 4 ? 60_000 : 10)
      return Effect.gen(function*() {
        const api = yield* ApiClient.make({
          baseUrl: base,
          rateLimit: yield* RateLimit.make({ key: "k", limit: 100, window: "1 second", adaptive: true })
        })
        const until = (t: number) => Effect.flatMap(Clock.currentTimeMillis, (now) => TestClock.adjust(t - now))
        const interruptedAt = (t: number) =>
          Effect.gen(function*() {
            const fiber = yield* Effect.fork(api.get("/x"))
            yield* until(t)
            yield* Fiber.interrupt(fiber)
          })
        yield* runFor(api.get("/x"), 10) // r=1 of 2 learned at 10 ms
        // Sent at 10 ms and counted by the server; interrupted, it never tells the client, so it stays counted.
        yield* interruptedAt(50)
        yield* runFor(api.get("/x"), 1000) // nothing left until the reset at 1010 ms
        expect(server.sent).toEqual([0, 10, 1010])
        yield* until(2100)
        // Opens a window (until 3100) that no answer will ever describe.
        yield* interruptedAt(2150)
        // At 3100 the interrupted call still holds that window open, for one more window, not forever.
        yield* until(3100)
        yield* runFor(api.get("/x"), 1100)
        expect(server.sent).toEqual([0, 10, 1010, 2100, 4100])
        expect(server.refused).toEqual([])
      }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
    },
    30_000
  ) // the TestClock moves in 10 ms steps

  it.effect("a reset far in the future fails fast with RateLimited when it exceeds the call's budget", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 second", adaptive: true, maxWait: "10 seconds" })
      })
      yield* api.get("/x")
      const error = (yield* flipNow(api.get("/x"))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
      expect(Duration.toSeconds(error.retryAfter!)).toBe(86_400)
      // A deadline is a budget too.
      const bounded = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 second", adaptive: true }),
        timeout: { total: "30 seconds" }
      })
      expect(((yield* flipNow(bounded.get("/x"))) as ApiError.RateLimited).reason).toBe("ClientLimit")
      expect(yield* MockHttp.requests).toHaveLength(1)
    }).pipe(withRoutes([
      MockHttp.get("/v1/x", MockHttp.json(200, {}, { "ratelimit": "limit=1000, remaining=0, reset=86400" }))
    ])))

  it.effect("a reset in the past, and garbage values, are no reason to wait", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 1))
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true, onExceeded: "fail" })
      })
      for (const _ of [1, 2, 3]) yield* api.get("/past")
      for (const _ of [1, 2, 3]) yield* api.get("/garbage")
      expect(yield* MockHttp.requests).toHaveLength(6)
    }).pipe(withRoutes([
      MockHttp.get(
        "/v1/past",
        MockHttp.json(200, {}, {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Date.UTC(2026, 0, 1) / 1000 - 30)
        })
      ),
      MockHttp.get(
        "/v1/garbage",
        MockHttp.json(200, {}, {
          "x-ratelimit-remaining": "-3",
          "ratelimit": "r=zero;t=soon",
          "ratelimit-reset": "NaN"
        })
      )
    ])))

  it.effect("headers that disagree: the most restrictive wins; a 429 beats a header that says plenty remains", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true, onExceeded: "fail" })
      })
      yield* api.get("/disagree")
      const error = (yield* flipNow(api.get("/disagree"))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
      expect(Duration.toMillis(error.retryAfter!)).toBe(5000)
      // A 429 that claims 90 remain: the 429 is what happened.
      const lying = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ key: "lying", limit: 100, window: "1 minute", adaptive: true })
      })
      expect((yield* flipNow(lying.get("/lying")))._tag).toBe("RateLimited")
      const fiber = yield* Effect.fork(Effect.either(lying.get("/lying")))
      yield* TestClock.adjust("2999 millis")
      expect(yield* MockHttp.requests).toHaveLength(2)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(yield* MockHttp.requests).toHaveLength(3)
    }).pipe(withRoutes([
      MockHttp.get(
        "/v1/disagree",
        MockHttp.json(200, {}, { "ratelimit": "limit=10, remaining=5, reset=5", "x-ratelimit-remaining": "0" })
      ),
      MockHttp.get(
        "/v1/lying",
        MockHttp.status(429, { "retry-after": "3", "x-ratelimit-remaining": "90", "x-ratelimit-limit": "100" })
      )
    ])))

  it.effect("weighted costs, and a quota reported from outside (GraphQL points) is obeyed by the next call", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ key: "gql", limit: 10_000, window: "1 minute", adaptive: true })
      })
      yield* QuotaStore.report("gql", { limit: 1000, remaining: 50, reset: "10 seconds" })
      yield* api.post("/graphql", { body: {}, cost: 30 })
      const second = yield* Effect.fork(api.post("/graphql", { body: {}, cost: 30 }))
      yield* TestClock.adjust("9 seconds")
      expect(yield* MockHttp.requests).toHaveLength(1)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(second)
      expect(yield* MockHttp.requests).toHaveLength(2)
      // More than the server's whole limit can never go.
      const error = (yield* flipNow(api.post("/graphql", { body: {}, cost: 1001 }))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
    }).pipe(withRoutes([MockHttp.post("/v1/graphql", MockHttp.json(200, {}))])))
})

describe("RateLimit adaptive, custom header parser", () => {
  // A provider-specific header the standard parser does not know: "used/limit; reset-in seconds".
  const acme = (headers: Readonly<Record<string, string | undefined>>) => {
    const m = /^(\d+)\/(\d+); reset-in=(\d+)$/.exec(headers["x-acme-quota"] ?? "")
    return m === null ? undefined : new ApiError.RateLimitInfo({
      limit: Number(m[2]),
      remaining: Number(m[2]) - Number(m[1]),
      reset: Duration.seconds(Number(m[3]))
    })
  }

  it.effect("reads the refusal's headers too: a 429 that only says x-acme-quota holds the next call until its reset", () => {
    const sent: Array<number> = []
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: base,
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true, headers: acme })
      })
      const first = yield* Effect.flip(api.get("/things"))
      expect(first._tag).toBe("RateLimited")
      const second = yield* Effect.fork(api.get("/things"))
      yield* TestClock.adjust("29 seconds")
      expect(sent).toEqual([0])
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(second)
      expect(sent).toEqual([0, 30_000])
    }).pipe(withRoutes([
      MockHttp.get("/v1/things", () =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          sent.push(now)
          return sent.length === 1
            ? MockHttp.status(429, { "x-acme-quota": "10/10; reset-in=30" })
            : MockHttp.json(200, {}, { "x-acme-quota": "1/10; reset-in=60" })
        }))
    ]))
  })
})
