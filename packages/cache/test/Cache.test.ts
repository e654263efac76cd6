import { Auth } from "@apikit/auth"
import { Cache, CacheStore } from "@apikit/cache"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Metric, Option, Redacted, Schema, TestClock } from "effect"

const Repo = Schema.Struct({ id: Schema.Number, name: Schema.String })

/** An origin that answers with an ETag and a Cache-Control, and 304 when the ETag matches. */
const etagged =
  (cacheControl: string, body: () => unknown = () => ({ id: 1, name: "effect" }), etag = "\"v1\"") =>
  (request: MockHttp.MockRequest) =>
    request.headers["if-none-match"] === etag
      ? MockHttp.status(304, { etag, "cache-control": cacheControl })
      : MockHttp.json(200, body(), { etag, "cache-control": cacheControl })

const provide =
  (routes: ReadonlyArray<MockHttp.Route>, store = CacheStore.layerMemory) => <A, E>(self: Effect.Effect<A, E, any>) =>
    self.pipe(
      Effect.provide(
        Layer.mergeAll(MockHttp.layer(routes), store, RateLimit.layerMemory, CircuitBreakerStore.layerMemory)
      ),
      Effect.scoped
    ) as Effect.Effect<A, E>

const client = (options: Cache.Options = {}, more: Partial<ApiClient.Options> = {}) =>
  Effect.flatMap(
    Cache.make(options),
    (cache) => ApiClient.make({ baseUrl: "https://api.example.com", name: "example", cache, ...more })
  )

const counter = (name: keyof typeof Cache.metrics, client = "example") =>
  Effect.map(Metric.value(Metric.tagged(Cache.metrics[name], "client", client)), (s) => s.count)

describe("freshness and revalidation", () => {
  it.effect("a fresh response is served without a request; a stale one is revalidated and the 304 serves the stored body", () =>
    Effect.gen(function*() {
      const api = yield* client()
      expect(yield* api.get("/repos/1", { success: Repo })).toEqual({ id: 1, name: "effect" })
      expect(yield* api.get("/repos/1", { success: Repo })).toEqual({ id: 1, name: "effect" })
      expect(yield* MockHttp.count()).toBe(1)

      yield* TestClock.adjust("59 seconds")
      yield* api.get("/repos/1", { success: Repo })
      expect(yield* MockHttp.count()).toBe(1)

      yield* TestClock.adjust("2 seconds") // 61 s: stale
      const exchange = yield* api.exchange("GET", "/repos/1", { success: Repo })
      expect(exchange.value).toEqual({ id: 1, name: "effect" }) // decoded from the stored body
      expect(exchange.status).toBe(200)
      const sent = yield* MockHttp.requests
      expect(sent.length).toBe(2)
      expect(sent[1]!.headers["if-none-match"]).toBe("\"v1\"")

      // The 304 refreshed the entry: fresh for another 60 s.
      yield* TestClock.adjust("30 seconds")
      yield* api.get("/repos/1", { success: Repo })
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=60"))])))

  it.effect("no-store is never stored; no-cache and must-revalidate always revalidate; Age counts against max-age", () =>
    Effect.gen(function*() {
      const api = yield* client()
      for (const path of ["/no-store", "/no-cache", "/aged"]) {
        yield* api.get(path)
        yield* api.get(path)
      }
      const sent = yield* MockHttp.requests
      expect(sent.filter((r) => r.url.pathname === "/no-store").map((r) => r.headers["if-none-match"])).toEqual([
        undefined,
        undefined
      ])
      expect(sent.filter((r) => r.url.pathname === "/no-cache").map((r) => r.headers["if-none-match"])).toEqual([
        undefined,
        "\"v1\""
      ])
      // max-age=60 with Age: 30 is fresh for 30 more seconds.
      expect(sent.filter((r) => r.url.pathname === "/aged").length).toBe(1)
      yield* TestClock.adjust("31 seconds")
      yield* api.get("/aged")
      expect((yield* MockHttp.requests).filter((r) => r.url.pathname === "/aged").length).toBe(2)
    }).pipe(provide([
      MockHttp.get("/no-store", etagged("no-store")),
      MockHttp.get("/no-cache", etagged("no-cache")),
      MockHttp.get("/aged", () => MockHttp.json(200, { ok: 1 }, { "cache-control": "max-age=60", age: "30" }))
    ])))

  it.effect("Expires without max-age; no explicit freshness and no heuristics means revalidate every time", () =>
    Effect.gen(function*() {
      const api = yield* client()
      yield* api.get("/expires")
      yield* api.get("/expires")
      yield* api.get("/last-modified")
      yield* api.get("/last-modified")
      const sent = yield* MockHttp.requests
      expect(sent.filter((r) => r.url.pathname === "/expires").length).toBe(1)
      const lm = sent.filter((r) => r.url.pathname === "/last-modified")
      expect(lm.length).toBe(2)
      expect(lm[1]!.headers["if-modified-since"]).toBe("Thu, 01 Jan 1970 00:00:00 GMT")
    }).pipe(provide([
      MockHttp.get(
        "/expires",
        () =>
          MockHttp.json(200, { ok: 1 }, {
            date: new Date(0).toUTCString(),
            expires: new Date(120_000).toUTCString()
          })
      ),
      MockHttp.get("/last-modified", (r) =>
        r.headers["if-modified-since"] !== undefined
          ? MockHttp.status(304, { "last-modified": new Date(0).toUTCString() })
          : MockHttp.json(200, { ok: 1 }, { "last-modified": new Date(0).toUTCString() }))
    ])))

  it.effect("Vary: each Accept value has its own entry", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const a = yield* api.get("/v", { headers: { accept: "application/json" } })
      const b = yield* api.get("/v", { headers: { accept: "application/vnd.github.raw+json" } })
      const a2 = yield* api.get("/v", { headers: { accept: "application/json" } })
      const b2 = yield* api.get("/v", { headers: { accept: "application/vnd.github.raw+json" } })
      expect([a, b, a2, b2]).toEqual([{ a: "application/json" }, { a: "application/vnd.github.raw+json" }, {
        a: "application/json"
      }, { a: "application/vnd.github.raw+json" }])
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(provide([
      MockHttp.get(
        "/v",
        (r) => MockHttp.json(200, { a: r.headers["accept"] }, { "cache-control": "max-age=60", vary: "Accept" })
      )
    ])))

  it.effect("bodies over maxBodyBytes are not stored", () =>
    Effect.gen(function*() {
      const api = yield* client({ maxBodyBytes: 100 })
      yield* api.get("/big")
      yield* api.get("/big")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(
      provide([MockHttp.get("/big", MockHttp.json(200, { x: "y".repeat(200) }, { "cache-control": "max-age=60" }))])
    ))
})

describe("quota", () => {
  const run = (free: boolean) =>
    Effect.gen(function*() {
      const rateLimit = yield* RateLimit.make({ limit: 1, window: "1 hour", onExceeded: "fail" })
      const api = yield* client({ notModifiedIsFree: free }, { rateLimit })
      yield* api.get("/repos/1", { success: Repo }) // the one permit
      const results: Array<string> = []
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("2 seconds")
        results.push(
          yield* api.get("/repos/1", { success: Repo }).pipe(
            Effect.match({ onFailure: (e) => e._tag, onSuccess: (r) => r.name })
          )
        )
      }
      return { results, sent: yield* MockHttp.count() }
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=1"))]))

  it.effect("with notModifiedIsFree, revalidations take no permit; without it, the limiter charges them", () =>
    Effect.gen(function*() {
      const free = yield* run(true)
      expect(free.results).toEqual(["effect", "effect", "effect", "effect", "effect"])
      expect(free.sent).toBe(6)
      const charged = yield* run(false)
      expect(charged.results).toEqual(["RateLimited", "RateLimited", "RateLimited", "RateLimited", "RateLimited"])
      expect(charged.sent).toBe(1)
    }))

  it.effect("a fresh hit spends no permit", () =>
    Effect.gen(function*() {
      const rateLimit = yield* RateLimit.make({ limit: 1, window: "1 hour", onExceeded: "fail" })
      const api = yield* client({}, { rateLimit })
      for (let i = 0; i < 10; i++) yield* api.get("/repos/1", { success: Repo })
      expect(yield* MockHttp.count()).toBe(1)
      const saved = yield* counter("permitSaved")
      expect(saved).toBeGreaterThanOrEqual(9)
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=60"))])))
})

describe("degraded service", () => {
  const failing = (cacheControl: string) => {
    let down = false
    return {
      setDown: Effect.sync(() => {
        down = true
      }),
      route: MockHttp.get(
        "/repos/:id",
        (r) => down ? MockHttp.json(503, { message: "down" }) : etagged(cacheControl)(r)
      )
    }
  }

  it.effect("stale-if-error answers while the circuit is open, and says how old it is", () => {
    const origin = failing("max-age=10, stale-if-error=600")
    return Effect.gen(function*() {
      const circuitBreaker = yield* CircuitBreaker.make({
        trip: CircuitBreaker.consecutive(1),
        openDuration: "5 minutes"
      })
      const api = yield* client({}, { circuitBreaker })
      yield* api.get("/repos/1", { success: Repo })
      yield* origin.setDown
      yield* TestClock.adjust("30 seconds")
      const first = yield* Cache.orStale(api.get("/repos/1", { success: Repo })) // 503 opens the circuit
      expect(first).toMatchObject({ _tag: "Stale", reason: "stale-if-error", value: { id: 1 } })
      expect(yield* breakerState(circuitBreaker)).toBe("Open")
      yield* TestClock.adjust("60 seconds")
      const second = yield* Cache.orStale(api.get("/repos/1", { success: Repo })) // CircuitOpen: nothing sent
      expect(second._tag).toBe("Stale")
      if (second._tag === "Stale") expect(Duration.toSeconds(second.age)).toBe(90)
      expect(yield* MockHttp.count()).toBe(2)
      // Past the stale-if-error window the failure comes through (the half-open probe meets the 503).
      yield* TestClock.adjust("11 minutes")
      expect((yield* Effect.flip(api.get("/repos/1")))._tag).toBe("ServerError")
    }).pipe(provide([origin.route]))
  })

  it.effect("orStale: a stale entry instead of CircuitOpen only when the caller asks, within maxStale", () => {
    const origin = failing("max-age=10")
    return Effect.gen(function*() {
      const circuitBreaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), openDuration: "1 hour" })
      const api = yield* client({}, { circuitBreaker })
      yield* api.get("/repos/1", { success: Repo })
      yield* origin.setDown
      yield* TestClock.adjust("20 seconds")
      expect((yield* Effect.flip(api.get("/repos/1")))._tag).toBe("ServerError") // opens the circuit
      expect((yield* Effect.flip(api.get("/repos/1")))._tag).toBe("CircuitOpen") // never silently stale
      const served = yield* Cache.orStale(api.get("/repos/1", { success: Repo }), { maxStale: "1 minute" })
      expect(served).toEqual({
        _tag: "Stale",
        value: { id: 1, name: "effect" },
        age: Duration.seconds(20),
        reason: "CircuitOpen"
      })
      yield* TestClock.adjust("2 minutes")
      const tooOld = yield* Effect.flip(Cache.orStale(api.get("/repos/1"), { maxStale: "1 minute" }))
      expect(tooOld._tag).toBe("CircuitOpen")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(provide([origin.route]))
  })

  it.effect("orStale: a stale entry when the limiter would wait past the budget", () =>
    Effect.gen(function*() {
      const rateLimit = yield* RateLimit.make({ limit: 1, window: "1 hour" })
      const api = yield* client({}, { rateLimit, timeout: { total: "5 seconds" } })
      yield* api.get("/repos/1", { success: Repo })
      yield* TestClock.adjust("20 seconds")
      const served = yield* Cache.orStale(api.get("/repos/1", { success: Repo }))
      expect(served).toMatchObject({ _tag: "Stale", reason: "RateLimited" })
      expect(yield* MockHttp.count()).toBe(1)
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=10"))])))

  it.effect("must-revalidate forbids stale answers, even when asked", () =>
    Effect.gen(function*() {
      const rateLimit = yield* RateLimit.make({ limit: 1, window: "1 hour", onExceeded: "fail" })
      const api = yield* client({}, { rateLimit })
      yield* api.get("/repos/1")
      yield* TestClock.adjust("20 seconds")
      expect((yield* Effect.flip(Cache.orStale(api.get("/repos/1"))))._tag).toBe("RateLimited")
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=10, must-revalidate"))])))

  it.effect("stale-while-revalidate answers at once and refreshes in the background", () =>
    Effect.gen(function*() {
      const api = yield* client()
      yield* api.get("/repos/1")
      yield* TestClock.adjust("15 seconds")
      const served = yield* Cache.orStale(api.get("/repos/1", { success: Repo }))
      expect(served).toMatchObject({ _tag: "Stale", reason: "stale-while-revalidate" })
      yield* TestClock.adjust("1 second") // the background revalidation runs
      expect(yield* MockHttp.count()).toBe(2)
      expect((yield* MockHttp.requests)[1]!.headers["if-none-match"]).toBe("\"v1\"")
      expect((yield* Cache.orStale(api.get("/repos/1")))._tag).toBe("Fresh")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=10, stale-while-revalidate=60"))])))
})

const breakerState = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state("example"), (s) => s.state)

describe("coalescing", () => {
  it.effect("100 identical GETs share one request; interrupted waiters leave the others their answer", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const fibers = yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        () => Effect.fork(api.get("/slow", { success: Repo })),
        { concurrency: "unbounded" }
      )
      yield* TestClock.adjust("500 millis")
      // The first caller (who started the request) and 29 others give up.
      yield* Effect.forEach(fibers.slice(0, 30), Fiber.interrupt, { discard: true })
      yield* TestClock.adjust("1 second")
      const results = yield* Effect.forEach(fibers.slice(30), Fiber.join)
      expect(results.length).toBe(70)
      expect(results.every((r) => r.name === "effect")).toBe(true)
      expect(yield* MockHttp.count()).toBe(1)
      expect(yield* counter("coalesced")).toBe(99)
    }).pipe(provide([
      MockHttp.get("/slow", MockHttp.delay("1 second", MockHttp.json(200, { id: 1, name: "effect" })))
    ])))

  const slow = (counts: { cancelled: number }) =>
    MockHttp.get("/slow", () =>
      Effect.sleep("5 seconds").pipe(
        Effect.as(MockHttp.json(200, { id: 1 })),
        Effect.onInterrupt(() => Effect.sync(() => counts.cancelled++))
      ))

  it.effect("each waiter keeps its own deadline; the request is cancelled when the last waiter is gone", () => {
    const counts = { cancelled: 0 }
    return Effect.gen(function*() {
      const api = yield* client()
      const long = yield* Effect.fork(api.get("/slow", { timeout: { total: "10 seconds" } }))
      yield* TestClock.adjust("1 millis")
      const short = yield* Effect.fork(api.get("/slow", { timeout: { total: "1 second" } }))
      yield* TestClock.adjust("1 second")
      const timedOut = yield* Fiber.await(short)
      expect(Exit.isFailure(timedOut) && timedOut.cause._tag === "Fail" && timedOut.cause.error._tag).toBe("Timeout")
      expect(counts.cancelled).toBe(0) // the first caller still waits for it
      yield* Fiber.interrupt(long)
      yield* TestClock.adjust("1 millis")
      expect(counts.cancelled).toBe(1)
      expect(yield* MockHttp.count()).toBe(1)
    }).pipe(provide([slow(counts)]))
  })

  it.effect("a joiner with more time left than the caller who started the request goes again when that caller's deadline ends it", () => {
    const counts = { cancelled: 0 }
    return Effect.gen(function*() {
      const api = yield* client()
      const short = yield* Effect.fork(api.get("/slow", { timeout: { total: "1 second" } }))
      yield* TestClock.adjust("1 millis")
      const long = yield* Effect.fork(api.get("/slow", { timeout: { total: "20 seconds" } }))
      yield* TestClock.adjust("1 second")
      expect(Exit.isFailure(yield* Fiber.await(short))).toBe(true)
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(long)).toEqual({ id: 1 })
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(provide([slow(counts)]))
  })
})

describe("invalidation", () => {
  it.effect("a successful POST/PUT/PATCH/DELETE invalidates its URL and its Location; invalidate by hand", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const reads = () => MockHttp.requests.pipe(Effect.map((all) => all.filter((r) => r.method === "GET").length))
      yield* api.get("/repos/1")
      yield* api.get("/repos/1")
      expect(yield* reads()).toBe(1)
      yield* api.patch("/repos/1", { body: { name: "x" } })
      yield* api.get("/repos/1")
      expect(yield* reads()).toBe(2)

      yield* api.get("/repos/2")
      yield* api.post("/repos", { body: { name: "y" } }) // Location: /repos/2
      yield* api.get("/repos/2")
      expect(yield* reads()).toBe(4)

      yield* Cache.invalidate(api, "/repos/1")
      yield* api.get("/repos/1")
      expect(yield* reads()).toBe(5)

      // A failed unsafe request invalidates nothing.
      yield* Effect.flip(api.delete("/repos/1"))
      yield* api.get("/repos/1")
      expect(yield* reads()).toBe(5)
    }).pipe(provide([
      MockHttp.get("/repos/:id", etagged("max-age=600")),
      MockHttp.patch("/repos/:id", MockHttp.json(200, { ok: 1 })),
      MockHttp.post("/repos", MockHttp.json(201, { id: 2 }, { location: "/repos/2" })),
      MockHttp.del("/repos/:id", MockHttp.json(500, {}))
    ])))
})

describe("credentials", () => {
  const byToken = MockHttp.get(
    "/me",
    (r) =>
      MockHttp.json(200, { who: r.headers["authorization"] ?? r.url.searchParams.get("api_key") }, {
        "cache-control": "private, max-age=600"
      })
  )

  it.effect("one credential's response is never served to another; keys hold no secret", () => {
    const keys: Array<string> = []
    const memory = CacheStore.makeMemory()
    const spying = Layer.succeed(CacheStore.CacheStore, {
      ...memory,
      get: (resource, variant) => {
        keys.push(resource, variant)
        return memory.get(resource, variant)
      }
    })
    return Effect.gen(function*() {
      const alice = yield* client({}, { auth: Auth.bearer(Redacted.make("tok_ALICE_SECRET_1")) })
      const bob = yield* client({}, { auth: Auth.bearer(Redacted.make("tok_BOB_SECRET_2")) })
      expect(yield* alice.get("/me")).toEqual({ who: "Bearer tok_ALICE_SECRET_1" })
      expect(yield* bob.get("/me")).toEqual({ who: "Bearer tok_BOB_SECRET_2" })
      expect(yield* alice.get("/me")).toEqual({ who: "Bearer tok_ALICE_SECRET_1" })
      expect(yield* bob.get("/me")).toEqual({ who: "Bearer tok_BOB_SECRET_2" })
      expect(yield* MockHttp.count()).toBe(2)

      // Credentials passed per call (headers, secret query values) scope the entry too.
      const anon = yield* client()
      expect(yield* anon.get("/me", { headers: { authorization: Redacted.make("Bearer tok_CAROL_3") } })).toEqual({
        who: "Bearer tok_CAROL_3"
      })
      expect(yield* anon.get("/me", { query: { api_key: "key_DAVE_4" } })).toEqual({ who: "key_DAVE_4" })
      expect(yield* anon.get("/me", { query: { api_key: "key_ERIN_5" } })).toEqual({ who: "key_ERIN_5" })
      expect(yield* anon.get("/me", { query: { api_key: "key_DAVE_4" } })).toEqual({ who: "key_DAVE_4" })
      expect(yield* MockHttp.count()).toBe(5)

      const all = keys.join("\n")
      for (const secret of ["ALICE", "BOB", "CAROL", "DAVE", "ERIN"]) expect(all).not.toContain(secret)
      expect(all).toContain("https://api.example.com/me?api_key=<redacted>")
    }).pipe(provide([byToken], spying))
  })
})

describe("metrics", () => {
  it.effect("hits, misses, revalidations, 304s", () =>
    Effect.gen(function*() {
      const api = yield* client({}, { name: "metrics" })
      yield* api.get("/repos/1")
      yield* api.get("/repos/1")
      yield* TestClock.adjust("2 seconds")
      yield* api.get("/repos/1")
      expect(yield* counter("hit", "metrics")).toBe(1)
      expect(yield* counter("miss", "metrics")).toBe(1)
      expect(yield* counter("revalidation", "metrics")).toBe(1)
      expect(yield* counter("notModified", "metrics")).toBe(1)
      expect(Option.isNone(Cache.ageOf((yield* api.exchange("GET", "/repos/1")).headers))).toBe(false)
    }).pipe(provide([MockHttp.get("/repos/:id", etagged("max-age=1"))])))
})

describe("store outage", () => {
  it.effect("a failing store costs quota, never a call: the calls go on uncached and the failures are counted", () => {
    const down = Effect.fail(new CacheStore.CacheStoreError({ message: "connection refused" }))
    const failing = Layer.succeed(CacheStore.CacheStore, { get: () => down, set: () => down, invalidate: () => down })
    return Effect.gen(function*() {
      const api = yield* client({}, { name: "down" })
      expect(yield* api.get("/repos/1", { success: Repo })).toEqual({ id: 1, name: "effect" })
      expect(yield* api.get("/repos/1", { success: Repo })).toEqual({ id: 1, name: "effect" })
      yield* api.patch("/repos/1", { body: {} })
      expect(yield* MockHttp.count({ method: "GET" })).toBe(2)
      expect(yield* counter("storeError", "down")).toBe(5) // 2 reads, 2 writes, 1 invalidation
    }).pipe(provide([
      MockHttp.get("/repos/:id", etagged("max-age=60")),
      MockHttp.patch("/repos/:id", MockHttp.json(200, {}))
    ], failing))
  })
})
