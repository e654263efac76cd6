import { ApiClient, type ApiError, type Policy } from "@apikit/http"
import { QuotaStore, RateLimit } from "@apikit/rate-limit"
import { Capture, MockHttp } from "@apikit/testing"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Array as Arr, Clock, Duration, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"

const base = "https://api.example.com/v1"

/** A route handler that stamps each request with the Effect clock. */
const stamped = (reply: MockHttp.Reply | ((n: number) => MockHttp.Reply)) => {
  const times: Array<number> = []
  const handler = () =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      times.push(now)
      return typeof reply === "function" ? reply(times.length) : reply
    })
  return { times, handler }
}

const withRoutes = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), Capture.layer, RateLimit.layerMemory))

/** Without log and span capture: for the 1,000-fiber tests, where capturing every line is most of the cost. */
const withRoutesQuiet = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), RateLimit.layerMemory))

const client = (rateLimit: Policy.RateLimitPolicy, options: Partial<ApiClient.Options> = {}) =>
  ApiClient.make({ baseUrl: base, rateLimit, ...options })

/** Counts per aligned window of `width` ms. */
const perWindow = (times: ReadonlyArray<number>, width: number) => {
  const counts = new Map<number, number>()
  for (const t of times) counts.set(Math.floor(t / width), (counts.get(Math.floor(t / width)) ?? 0) + 1)
  return counts
}

const flipNow = <A>(effect: Effect.Effect<A, ApiError.ApiError>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.flip(effect))
    yield* TestClock.adjust(0)
    return yield* Fiber.join(fiber)
  })

describe("RateLimit", () => {
  it.effect("fixed window: 1,000 concurrent fibers never exceed the limit per window, in virtual time", () => {
    const server = stamped(MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 10, window: "1 second" }))
      const fiber = yield* Effect.fork(
        Effect.forEach(Arr.range(1, 1000), () => api.get("/x"), { concurrency: "unbounded", discard: true })
      )
      yield* TestClock.adjust("200 seconds")
      yield* Fiber.join(fiber)
      expect(server.times).toHaveLength(1000)
      const counts = perWindow(server.times, 1000)
      expect(Math.max(...counts.values())).toBe(10)
      expect(counts.size).toBe(100)
      expect(Math.max(...server.times)).toBe(99_000)
    }).pipe(withRoutesQuiet([MockHttp.get("/v1/x", server.handler)]))
  }, 30_000) // TestClock wakes 1,000 sleepers one by one, polling real timers between them

  it.effect("token bucket: a burst of `limit`, then one permit every window / limit", () => {
    const server = stamped(MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 10, window: "1 second", algorithm: "token-bucket" }))
      const fiber = yield* Effect.fork(
        Effect.forEach(Arr.range(1, 1000), () => api.get("/x"), { concurrency: "unbounded", discard: true })
      )
      yield* TestClock.adjust("200 seconds")
      yield* Fiber.join(fiber)
      const sorted = [...server.times].sort((a, b) => a - b)
      expect(sorted).toEqual(Arr.range(0, 999).map((i) => Math.max(0, i - 9) * 100))
      // Any 1 s window holds at most the burst plus what refills in it.
      for (let i = 0; i < sorted.length; i++) {
        const inWindow = sorted.filter((t) => t >= sorted[i]! && t < sorted[i]! + 1000).length
        expect(inWindow).toBeLessThanOrEqual(20)
      }
    }).pipe(withRoutesQuiet([MockHttp.get("/v1/x", server.handler)]))
  }, 30_000)

  for (const algorithm of ["token-bucket", "fixed-window"] as const) {
    it.effect(
      `${algorithm} with deadlines: the rate holds, and a wait that would end at the deadline is refused`,
      () => {
        const server = stamped(MockHttp.json(200, {}))
        return Effect.gen(function*() {
          // Every call has a deadline, so each asks without reserving first and reserves only a
          // wait that fits; waits that do not fit are refused. Arrivals are spread out, so askers
          // keep meeting a bucket that others have reserved into.
          const api = yield* client(yield* RateLimit.make({ limit: 10, window: "1 second", algorithm }), {
            timeout: { total: "5 seconds" }
          })
          const fiber = yield* Effect.fork(
            Effect.forEach(
              Arr.range(1, 600),
              (i) => Effect.zipRight(Effect.sleep(Duration.millis((i * 37) % 20_000)), Effect.either(api.get("/x"))),
              { concurrency: "unbounded" }
            )
          )
          yield* TestClock.adjust("60 seconds")
          const results = yield* Fiber.join(fiber)
          const refused = results.flatMap((r) => r._tag === "Left" ? [r.left] : [])
          // Waits that do not fit are refused at once, never slept into a Timeout at the deadline.
          expect(refused.length).toBeGreaterThan(0)
          expect(refused.every((e) => e._tag === "RateLimited" && e.reason === "ClientLimit")).toBe(true)
          const sorted = [...server.times].sort((a, b) => a - b)
          expect(sorted.length).toBe(600 - refused.length)
          // Any 1 s span holds at most what the algorithm allows: a burst of 10 plus 10 refilled
          // (token bucket), or two adjacent fixed windows.
          for (let i = 0; i < sorted.length; i++) {
            expect(sorted.filter((t) => t >= sorted[i]! && t < sorted[i]! + 1000).length).toBeLessThanOrEqual(20)
          }
          // Over the whole run the rate holds: at most 10 per second plus one burst.
          expect(sorted.length).toBeLessThanOrEqual(10 * Math.ceil((sorted.at(-1)! + 1) / 1000) + 10)
        }).pipe(withRoutesQuiet([MockHttp.get("/v1/x", server.handler)]))
      },
      30_000
    )
  }

  it.effect("onExceeded 'fail' fails with RateLimited{ClientLimit} carrying key and retryAfter; nothing is sent", () =>
    Effect.gen(function*() {
      const api = yield* client(
        yield* RateLimit.make({ key: "crm", limit: 2, window: "10 seconds", onExceeded: "fail" })
      )
      yield* api.get("/x")
      yield* TestClock.adjust("1 second")
      yield* api.get("/x")
      const error = yield* flipNow(api.get("/x"))
      expect(error._tag).toBe("RateLimited")
      const limited = error as ApiError.RateLimited
      expect(limited.reason).toBe("ClientLimit")
      expect(limited.key).toBe("crm")
      expect(Duration.toMillis(limited.retryAfter!)).toBe(9000)
      expect(limited.message).toContain("client-side rate limit for \"crm\"")
      expect(yield* MockHttp.count()).toBe(2)
      yield* TestClock.adjust("9 seconds")
      yield* api.get("/x")
      expect(yield* MockHttp.count()).toBe(3)
    }).pipe(withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])))

  it.effect("maxWait: a longer wait fails at once, without reserving a permit", () => {
    const server = stamped(MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 1, window: "10 seconds", maxWait: "5 seconds" }))
      yield* api.get("/x")
      for (let i = 0; i < 5; i++) {
        const error = (yield* flipNow(api.get("/x"))) as ApiError.RateLimited
        expect([error.reason, Duration.toMillis(error.retryAfter!)]).toEqual(["ClientLimit", 10_000])
      }
      // Had the refused callers reserved permits, this one would wait 50 s more.
      yield* TestClock.adjust("6 seconds")
      const fiber = yield* Effect.fork(api.get("/x"))
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(fiber)
      expect(server.times).toEqual([0, 10_000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("waits within maxWait and the call's deadline", () => {
    const server = stamped(MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const policy = yield* RateLimit.make({ limit: 1, window: "4 seconds" })
      const api = yield* client(policy, { timeout: { total: "5 seconds" } })
      yield* api.get("/x")
      const fiber = yield* Effect.fork(api.get("/x"))
      yield* TestClock.adjust("4 seconds")
      yield* Fiber.join(fiber)
      expect(server.times).toEqual([0, 4000])
      // The next permit is 4 s away, but only 3 s of the deadline would be left after 2 s: refuse now.
      const short = yield* client(policy, { timeout: { total: "3 seconds" } })
      const error = (yield* flipNow(short.get("/x"))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
      expect(server.times).toHaveLength(2)
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("keys: each key has its own limit; the default key is the client's name", () => {
    const server = stamped(MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const perRoute = yield* RateLimit.make({
        key: (context) => `api:${context.route}`,
        limit: 1,
        window: "1 minute",
        onExceeded: "fail"
      })
      const api = yield* client(perRoute)
      yield* api.get("/a")
      yield* api.get("/b")
      const error = (yield* flipNow(api.get("/a"))) as ApiError.RateLimited
      expect(error.key).toBe("api:/a")

      const byClient = yield* RateLimit.make({ limit: 1, window: "1 minute", onExceeded: "fail" })
      const one = yield* client(byClient, { name: "one" })
      const two = yield* client(byClient, { name: "two" })
      yield* one.get("/a")
      yield* two.get("/a")
      expect(((yield* flipNow(one.get("/a"))) as ApiError.RateLimited).key).toBe("one")
    }).pipe(withRoutes([MockHttp.get("/v1/:p", server.handler)]))
  })

  it.effect("cost: a call takes `cost` permits; more than the limit is refused at once", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 5, window: "1 minute", onExceeded: "fail" }))
      yield* api.get("/x", { cost: 3 })
      const error = (yield* flipNow(api.get("/x", { cost: 3 }))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
      yield* api.get("/x", { cost: 2 })
      const tooBig = yield* client(yield* RateLimit.make({ limit: 5, window: "1 minute" }))
      expect(((yield* flipNow(tooBig.get("/x", { cost: 6 }))) as ApiError.RateLimited).reason).toBe("ClientLimit")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])))

  it.effect("adaptive: X-RateLimit-Remaining: 0 pauses every caller of the key until the reset", () => {
    const server = stamped((n) =>
      n === 1
        ? MockHttp.json(200, {}, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30" })
        : MockHttp.json(200, {})
    )
    return Effect.gen(function*() {
      const policy = yield* RateLimit.make({ key: "gh", limit: 1000, window: "1 minute", adaptive: true })
      const a = yield* client(policy)
      const b = yield* client(policy)
      yield* a.get("/x")
      const fibers = yield* Effect.forEach([a, b, a], (api) => Effect.fork(api.get("/x")))
      yield* TestClock.adjust("29 seconds")
      expect(server.times).toEqual([0])
      yield* TestClock.adjust("1 second")
      yield* Fiber.joinAll(fibers)
      expect(server.times).toEqual([0, 30_000, 30_000, 30_000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("adaptive: GitHub's epoch reset and the IETF RateLimit header are understood", () => {
    const start = Date.UTC(2025, 0, 1)
    const server = stamped((n) =>
      n === 1
        ? MockHttp.json(200, {}, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(start / 1000 + 42) })
        : n === 2
        ? MockHttp.json(200, {}, { "ratelimit": "\"default\";r=0;t=8" })
        : MockHttp.json(200, {})
    )
    return Effect.gen(function*() {
      yield* TestClock.setTime(start)
      const api = yield* client(yield* RateLimit.make({ limit: 1000, window: "1 hour", adaptive: true }))
      const fiber = yield* Effect.fork(Effect.forEach([1, 2, 3], () => api.get("/x")))
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      expect(server.times.map((t) => t - start)).toEqual([0, 42_000, 42_000 + 8_000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("adaptive: a 429 pauses the key for its Retry-After; over maxWait callers fail fast, unsent", () => {
    const server = stamped((n) => n === 1 ? MockHttp.status(429, { "retry-after": "12" }) : MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const policy = yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true })
      const api = yield* client(policy)
      expect((yield* flipNow(api.get("/x")))._tag).toBe("RateLimited")
      const waiting = yield* Effect.fork(api.get("/x"))
      const impatient = yield* client(
        yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true, maxWait: "5 seconds" })
      )
      const error = (yield* flipNow(impatient.get("/x"))) as ApiError.RateLimited
      expect(error.reason).toBe("ClientLimit")
      expect(Duration.toMillis(error.retryAfter!)).toBe(12_000)
      yield* TestClock.adjust("12 seconds")
      yield* Fiber.join(waiting)
      expect(server.times).toEqual([0, 12_000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("adaptive: callers that reserved a permit before a pause take a fresh one after it, not all at once", () => {
    const server = stamped((n) => n === 1 ? MockHttp.status(429, { "retry-after": "10" }) : MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 1, window: "1 second", adaptive: true }))
      // A is sent at once and meets the 429; B and C hold reservations for seconds 1 and 2.
      const calls = yield* Effect.forEach(["A", "B", "C"], () => Effect.fork(Effect.either(api.get("/x"))))
      for (let i = 0; i < 120; i++) yield* TestClock.adjust("100 millis")
      yield* Effect.forEach(calls, Fiber.join)
      // After the pause the limiter spaces them again: one per second.
      expect(server.times).toEqual([0, 10_000, 11_000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("no secret reaches a log line, span or rejection", () => {
    const secret = "sk_live_SENTINEL_9137"
    const server = stamped((n) => n === 1 ? MockHttp.status(429, { "retry-after": "3" }) : MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(
        yield* RateLimit.make({ limit: 1, window: "1 minute", adaptive: true, onExceeded: "fail" }),
        { headers: { authorization: Redacted.make(`Bearer ${secret}`) } }
      )
      const first = yield* flipNow(api.get("/x", { query: { api_key: secret } }))
      const second = yield* flipNow(api.get("/x", { query: { api_key: secret } }))
      expect([first._tag, (second as ApiError.RateLimited).reason]).toEqual(["RateLimited", "ClientLimit"])
      const capture = yield* Capture.Capture
      expect(capture.logs.some((l) => String(l.message).includes("paused by the server"))).toBe(true)
      for (const text of [capture.dump(), first.message, second.message, JSON.stringify(second)]) {
        expect(text).not.toContain(secret)
      }
      expect((yield* MockHttp.requests)[0]!.headers["authorization"]).toBe(`Bearer ${secret}`)
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("without adaptive mode the server's headers change nothing", () => {
    const server = stamped(MockHttp.json(200, {}, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30" }))
    return Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 100, window: "1 minute" }))
      yield* api.get("/x")
      yield* api.get("/x")
      expect(server.times).toEqual([0, 0])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("honours the call's deadline, except in a bulkhead's queue, where the client's watcher ends the wait", () =>
    Effect.gen(function*() {
      expect((yield* RateLimit.make({ limit: 10, window: "1 second" })).honorsDeadline).toBe(true)
      const limited = yield* RateLimit.make({
        limit: 10,
        window: "1 second",
        bulkhead: { maxConcurrent: 1, maxQueue: 1 }
      })
      expect(limited.honorsDeadline).not.toBe(true)
      const api = yield* client(limited)
      const holder = yield* Effect.fork(api.get("/hang"))
      yield* TestClock.adjust(0)
      const queued = yield* Effect.fork(Effect.flip(api.get("/hang", { timeout: { total: "5 seconds" } })))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(queued)
      expect(error._tag === "Timeout" && error.reason).toBe("Deadline")
      expect(yield* MockHttp.count()).toBe(1)
      yield* Fiber.interrupt(holder)
    }).pipe(withRoutes([MockHttp.get("/v1/hang", MockHttp.hang)])))

  it.effect("bulkhead: a full queue fails with BulkheadFull at once; interruption releases places", () =>
    Effect.gen(function*() {
      const api = yield* client(
        yield* RateLimit.make({
          key: "slow",
          limit: 1000,
          window: "1 second",
          bulkhead: { maxConcurrent: 2, maxQueue: 1 }
        })
      )
      const inFlight = yield* Effect.forEach([1, 2, 3], () => Effect.fork(api.get("/hang")))
      yield* TestClock.adjust(0)
      expect(yield* MockHttp.count()).toBe(2)
      const error = (yield* flipNow(api.get("/hang"))) as ApiError.RateLimited
      expect([error._tag, error.reason, error.key]).toEqual(["RateLimited", "BulkheadFull", "slow"])
      expect(error.message).toContain("too many calls are in flight or queued")
      // Interrupting a running call lets the queued one in.
      yield* Fiber.interrupt(inFlight[0]!)
      yield* TestClock.adjust(0)
      expect(yield* MockHttp.count()).toBe(3)
      // Interrupting everything gives every place back.
      yield* Fiber.interruptAll(inFlight)
      const again = yield* Effect.forEach([1, 2, 3], () => Effect.fork(api.get("/hang")))
      yield* TestClock.adjust(0)
      expect(yield* MockHttp.count()).toBe(5)
      yield* Fiber.interruptAll(again)
    }).pipe(withRoutes([MockHttp.get("/v1/hang", MockHttp.hang)])))

  it.effect("bulkhead: a queued caller interrupted while waiting leaves the queue", () =>
    Effect.gen(function*() {
      const api = yield* client(
        yield* RateLimit.make({ limit: 1000, window: "1 second", bulkhead: { maxConcurrent: 1, maxQueue: 1 } })
      )
      const running = yield* Effect.fork(api.get("/hang"))
      const queued = yield* Effect.fork(api.get("/hang"))
      yield* TestClock.adjust(0)
      expect(((yield* flipNow(api.get("/hang"))) as ApiError.RateLimited).reason).toBe("BulkheadFull")
      yield* Fiber.interrupt(queued)
      const next = yield* Effect.fork(api.get("/hang"))
      yield* TestClock.adjust(0)
      expect(yield* MockHttp.count()).toBe(1)
      yield* Fiber.interruptAll([running, next])
    }).pipe(withRoutes([MockHttp.get("/v1/hang", MockHttp.hang)])))

  it.effect("fails open, with a warning, when the limiter store is down", () =>
    Effect.gen(function*() {
      const api = yield* client(yield* RateLimit.make({ limit: 1, window: "1 minute", onExceeded: "fail" }))
      yield* api.get("/x")
      yield* api.get("/x")
      expect(yield* MockHttp.count()).toBe(2)
      const capture = yield* Capture.Capture
      expect(capture.logs.filter((l) => String(l.message).includes("limiter store failed"))).toHaveLength(2)
    }).pipe(
      Effect.provide(Layer.succeed(RateLimiter.RateLimiterStore, {
        fixedWindow: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "connection refused" })),
        tokenBucket: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "connection refused" }))
      })),
      withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])
    ))

  it.effect("the quota store: a later pause wins, an earlier one changes nothing", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      yield* store.observe("k", { pauseUntil: 5000 }, 1000)
      yield* store.observe("k", { pauseUntil: 3000 }, 1000)
      expect(yield* store.acquire("k", 1, 10, 1000)).toEqual({ _tag: "Wait", until: 5000, paused: true })
      yield* store.observe("k", { pauseUntil: 8000 }, 1000)
      expect(yield* store.acquire("k", 1, 10, 1000)).toEqual({ _tag: "Wait", until: 8000, paused: true })
      expect((yield* store.acquire("other", 1, 10, 1000))._tag).toBe("Admitted")
    }).pipe(Effect.provide(QuotaStore.QuotaStore.layerMemory)))

  it.effect("invalid options die with a message that says which", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(RateLimit.make({ limit: 0, window: "1 second" }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("limit must be a positive integer")
      const bulkhead = yield* Effect.exit(
        RateLimit.make({ limit: 1, window: "1 second", bulkhead: { maxConcurrent: 0, maxQueue: 0 } })
      )
      expect(Exit.isFailure(bulkhead) && String(bulkhead.cause)).toContain("maxConcurrent")
      const garbage = yield* Effect.exit(RateLimit.make({ limit: 1, window: "soon" as Duration.DurationInput }))
      expect(Exit.isFailure(garbage) && String(garbage.cause)).toContain("window must be a positive")
    }).pipe(Effect.provide(RateLimit.layerMemory)))
})
