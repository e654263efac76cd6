import { ApiClient, ApiError, Policy } from "@apikit/http"
import { Retry } from "@apikit/retry"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Metric,
  Random,
  Redacted,
  Schedule,
  TestClock
} from "effect"

const base = "https://api.example.com/v1"

/** A handler that plays `replies` in order (the last repeats) and stamps each request with the Effect clock. */
const stamped = (...replies: Array<MockHttp.Reply>) => {
  const times: Array<number> = []
  const handler = () =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const reply = replies[Math.min(times.length, replies.length - 1)]!
      times.push(now)
      return reply
    })
  return { times, handler }
}

const withRoutes = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.merge(MockHttp.layer(routes), Capture.layer))

/** Runs `effect` in a fiber and lets virtual time pass until it is done. */
const run = <A, E>(effect: Effect.Effect<A, E>, time: Duration.DurationInput = "1 hour") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(effect))
    yield* TestClock.adjust(time)
    return yield* Fiber.join(fiber)
  })

const client = (retry: Retry.RetryPolicy, options: Partial<ApiClient.Options> = {}) =>
  ApiClient.make({ baseUrl: base, retry, ...options })

const gaps = (times: ReadonlyArray<number>) => times.slice(1).map((t, i) => t - times[i]!)

describe("Retry.transient", () => {
  it.effect("waits exact full-jitter delays drawn from a seeded Random", () => {
    const server = stamped(MockHttp.status(503), MockHttp.status(502), MockHttp.status(500), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ times: 3, base: "100 millis", factor: 3, cap: "10 seconds" }))
      const result = yield* run(api.get("/things"))
      expect(Either.isRight(result)).toBe(true)
      // The same seed drawn by hand: full jitter is floor(r * base * factor^n).
      const expected = yield* Effect.forEach(
        [100, 300, 900],
        (backoff) => Effect.map(Random.next, (r) => Math.floor(r * backoff))
      ).pipe(Effect.withRandom(Random.make("seed-42")))
      expect(gaps(server.times)).toEqual(expected)
      expect(server.times).toHaveLength(4)
    }).pipe(
      Effect.withRandom(Random.make("seed-42")),
      withRoutes([MockHttp.get("/v1/things", server.handler)])
    )
  })

  it.effect("keeps every delay within [0, min(cap, base * factor^n))", () =>
    Effect.gen(function*() {
      for (const r of [0, 0.5, 0.999999]) {
        const server = stamped(MockHttp.status(503))
        const layer = MockHttp.layer([MockHttp.get("/v1/x", server.handler)])
        yield* Effect.gen(function*() {
          const api = yield* client(Retry.transient({ times: 5, base: "1 second", factor: 2, cap: "5 seconds" }))
          yield* run(api.get("/x"))
        }).pipe(Effect.provide(layer), Effect.withRandomFixed([r]))
        const ceilings = [1000, 2000, 4000, 5000, 5000]
        const delays = gaps(server.times)
        expect(delays).toHaveLength(5)
        delays.forEach((d, i) => {
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThan(ceilings[i]!)
          expect(d).toBe(Math.floor(r * ceilings[i]!))
        })
      }
    }))

  it.effect("across many seeds every delay stays within its bound", () =>
    Effect.gen(function*() {
      const seen = new Set<number>()
      for (let seed = 0; seed < 25; seed++) {
        const server = stamped(MockHttp.status(503))
        yield* Effect.gen(function*() {
          const api = yield* client(Retry.transient({ times: 4, base: "1 second", factor: 2, cap: "3 seconds" }))
          yield* run(api.get("/x"))
        }).pipe(
          Effect.provide(MockHttp.layer([MockHttp.get("/v1/x", server.handler)])),
          Effect.withRandom(Random.make(seed))
        )
        gaps(server.times).forEach((d, i) => {
          expect(d).toBeGreaterThanOrEqual(0)
          expect(d).toBeLessThan([1000, 2000, 3000, 3000][i]!)
          seen.add(d)
        })
      }
      // Jitter really spreads the clients: 100 delays, (almost) all different.
      expect(seen.size).toBeGreaterThan(90)
    }))

  it.effect("jitter: 'none' waits the exact exponential backoff", () => {
    const server = stamped(MockHttp.transportError("ECONNRESET"), MockHttp.status(504), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ base: "250 millis", jitter: "none" }))
      expect(Either.isRight(yield* run(api.get("/x")))).toBe(true)
      expect(gaps(server.times)).toEqual([250, 500])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("honours Retry-After in seconds as a floor, never jittered", () => {
    const server = stamped(MockHttp.status(429, { "retry-after": "5" }), MockHttp.json(200, { ok: true }))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ base: "100 millis", cap: "10 seconds" }))
      expect(yield* run(api.get("/x"))).toEqual(Either.right({ ok: true }))
      expect(gaps(server.times)).toEqual([5000])
    }).pipe(Effect.withRandomFixed([0.999]), withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("a rate-limited token endpoint's Retry-After (AuthError.retryAfter) is a floor too", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      // A token fetch that is told to come back in 5 s, then succeeds.
      const fetchToken = Effect.flatMap(Clock.currentTimeMillis, (now) => {
        times.push(now)
        return times.length === 1
          ? Effect.fail(
            new ApiError.AuthError({
              reason: "TokenEndpointUnavailable",
              key: "k",
              status: 429,
              transient: true,
              retryAfter: Duration.seconds(5)
            })
          )
          : Effect.succeed("token")
      })
      const policy = Retry.transient({ base: "100 millis", cap: "10 seconds" })
      expect(yield* run(fetchToken.pipe(Retry.retry(policy)))).toEqual(Either.right("token"))
      expect(gaps(times)).toEqual([5000])
    }).pipe(Effect.withRandomFixed([0.999])))

  it.effect("honours Retry-After as an HTTP-date (503), measured on the Effect clock", () => {
    const start = Date.UTC(2025, 5, 1, 12, 0, 0)
    const server = stamped(
      MockHttp.status(503, { "retry-after": "Sun, 01 Jun 2025 12:00:07 GMT" }),
      MockHttp.json(200, {})
    )
    return Effect.gen(function*() {
      yield* TestClock.setTime(start)
      const api = yield* client(Retry.transient({ base: "1 second", cap: "10 seconds" }))
      expect(Either.isRight(yield* run(api.get("/x")))).toBe(true)
      expect(server.times.map((t) => t - start)).toEqual([0, 7000])
    }).pipe(Effect.withRandomFixed([0.5]), withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("a backoff longer than Retry-After wins: the header is a floor, not the delay", () => {
    const server = stamped(MockHttp.status(429, { "retry-after": "1" }), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ base: "4 seconds", jitter: "none" }))
      yield* run(api.get("/x"))
      expect(gaps(server.times)).toEqual([4000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("fails fast with the RateLimited error when Retry-After is over the cap", () => {
    const server = stamped(MockHttp.status(429, { "retry-after": "120" }), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ cap: "10 seconds" }))
      const fiber = yield* Effect.fork(Effect.flip(api.get("/x")))
      yield* TestClock.adjust(0)
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("RateLimited")
      expect(Duration.toSeconds((error as ApiError.RateLimited).retryAfter!)).toBe(120)
      expect(server.times).toEqual([0])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("fails fast with the original error when the wait would pass the call's deadline", () => {
    const server = stamped(MockHttp.status(429, { "retry-after": "20" }), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ cap: "1 minute" }), { timeout: { total: "10 seconds" } })
      const fiber = yield* Effect.fork(Effect.flip(api.get("/x")))
      yield* TestClock.adjust(0)
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("RateLimited")
      expect(server.times).toEqual([0])
      // So it can promise ApiClient never to outlast the deadline (no watcher fiber per call).
      expect(Retry.transient().honorsDeadline).toBe(true)
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("does not retry POST without an idempotency key; does with a key or an explicit opt-in", () => {
    const server = stamped(MockHttp.status(503))
    return Effect.gen(function*() {
      const strict = yield* client(Retry.transient({ times: 2, jitter: "none" }))
      yield* run(strict.post("/things", { body: { a: 1 } }))
      expect(server.times).toHaveLength(1)

      yield* run(strict.post("/things", { body: { a: 1 }, idempotencyKey: true }))
      expect(server.times).toHaveLength(4)
      const sent = yield* MockHttp.requests
      const keys = sent.slice(1).map((r) => r.headers["idempotency-key"])
      expect(new Set(keys).size).toBe(1)
      expect(keys[0]).toBeDefined()

      yield* run(strict.patch("/things", { body: { a: 1 } }))
      expect(server.times).toHaveLength(5)

      const optIn = yield* client(Retry.transient({ times: 2, jitter: "none", retryNonIdempotent: true }))
      yield* run(optIn.post("/things", { body: { a: 1 } }))
      expect(server.times).toHaveLength(8)
    }).pipe(withRoutes([MockHttp.post("/v1/things", server.handler), MockHttp.patch("/v1/things", server.handler)]))
  })

  it.effect("retries only transient failures", () =>
    Effect.gen(function*() {
      const api = yield* client(Retry.transient({ times: 2, jitter: "none", base: "10 millis" }))
      const attempts = (path: string) =>
        Effect.gen(function*() {
          yield* MockHttp.MockHttp.pipe(Effect.flatMap((m) => m.clear))
          yield* run(api.get(path))
          return yield* MockHttp.count()
        })
      for (const status of [400, 401, 403, 404, 409, 422, 501, 505]) {
        expect([status, yield* attempts(`/status/${status}`)]).toEqual([status, 1])
      }
      for (const status of [408, 429, 500, 502, 503, 504]) {
        expect([status, yield* attempts(`/status/${status}`)]).toEqual([status, 3])
      }
      expect(yield* attempts("/reset")).toBe(3)
      expect(yield* attempts("/not-json")).toBe(1)
    }).pipe(withRoutes([
      MockHttp.get("/v1/status/:s", (req) => MockHttp.status(Number(req.params.s))),
      MockHttp.get("/v1/reset", MockHttp.transportError("ECONNRESET")),
      MockHttp.get("/v1/not-json", MockHttp.text(200, "<html>"))
    ])))

  it.effect("retries attempt timeouts but never past the deadline", () => {
    const server = stamped(MockHttp.hang)
    return Effect.gen(function*() {
      const api = yield* client(Retry.transient({ times: 10, jitter: "none", base: "1 second" }), {
        timeout: { attempt: "2 seconds", total: "7 seconds" }
      })
      const result = yield* run(api.get("/x"))
      // 0 → timeout at 2s, wait 1s → 3 → timeout 5s, a 2 s wait would reach the deadline at 7s.
      expect(server.times).toEqual([0, 3000])
      expect(Either.isLeft(result) && result.left._tag).toBe("Timeout")
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("never retries the client's own ClientLimit/BulkheadFull rejections", () =>
    Effect.gen(function*() {
      let calls = 0
      const limiter = Policy.make("rateLimit", "always-full", () => (_request, context) => {
        calls++
        return Effect.fail(
          new ApiError.RateLimited({ method: context.method, url: context.url, reason: "ClientLimit", key: "k" })
        )
      })
      const api = yield* client(Retry.transient(), { rateLimit: limiter })
      const result = yield* run(api.get("/x"))
      expect(calls).toBe(1)
      expect(Either.isLeft(result) && result.left._tag).toBe("RateLimited")
    }).pipe(withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])))

  it.effect("retries CircuitOpen only when its retryAfter fits the cap and the deadline", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const breaker = (retryAfter: Duration.DurationInput) =>
        Policy.make("circuitBreaker", "open-once", (next) => (request, context) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            times.push(now)
            return context.attempt === 1
              ? Effect.fail(
                new ApiError.CircuitOpen({
                  method: context.method,
                  url: context.url,
                  key: "k",
                  retryAfter: Duration.decode(retryAfter)
                })
              )
              : next(request, context)
          }))
      const fits = yield* client(Retry.transient({ jitter: "none", base: "10 millis" }), {
        circuitBreaker: breaker("3 seconds"),
        timeout: { total: "10 seconds" }
      })
      expect(Either.isRight(yield* run(fits.get("/x")))).toBe(true)
      expect(gaps(times)).toEqual([3000])

      times.length = 0
      const tooLong = yield* client(Retry.transient({ jitter: "none" }), {
        circuitBreaker: breaker("30 seconds"),
        timeout: { total: "10 seconds" }
      })
      const result = yield* run(tooLong.get("/x"))
      expect(times).toHaveLength(1)
      expect(Either.isLeft(result) && result.left._tag).toBe("CircuitOpen")
    }).pipe(withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])))

  it.effect("retries transient AuthErrors only", () =>
    Effect.gen(function*() {
      let calls = 0
      const auth = (transient: boolean) =>
        Policy.make("auth", "flaky-token", (next) => (request, context) => {
          calls++
          return calls === 1 || !transient
            ? Effect.fail(
              new ApiError.AuthError({ reason: "TokenEndpointUnavailable", key: "oauth", status: 503, transient })
            )
            : next(request, context)
        })
      const flaky = yield* client(Retry.transient({ jitter: "none", base: "10 millis" }), { auth: auth(true) })
      expect(Either.isRight(yield* run(flaky.get("/x")))).toBe(true)
      expect(calls).toBe(2)
      calls = 0
      const broken = yield* client(Retry.transient({ jitter: "none", base: "10 millis" }), { auth: auth(false) })
      expect(Either.isLeft(yield* run(broken.get("/x")))).toBe(true)
      expect(calls).toBe(1)
    }).pipe(withRoutes([MockHttp.get("/v1/x", MockHttp.json(200, {}))])))

  it.effect("accepts a user Schedule; times and maxElapsed still bound it", () => {
    const server = stamped(MockHttp.status(500))
    return Effect.gen(function*() {
      const spaced = yield* client(Retry.transient({ schedule: Schedule.spaced("1 second"), times: 2 }))
      yield* run(spaced.get("/x"))
      expect(server.times).toEqual([0, 1000, 2000])

      server.times.length = 0
      const start = yield* Clock.currentTimeMillis
      const bounded = yield* client(Retry.transient({ schedule: Schedule.spaced("1 second"), maxElapsed: "3 seconds" }))
      yield* run(bounded.get("/x"))
      expect(server.times.map((t) => t - start)).toEqual([0, 1000, 2000, 3000])
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("stops at the budget: retries never exceed ratio × calls in the window", () => {
    const server = stamped(MockHttp.status(503))
    return Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0.2, window: "10 seconds", minRetries: 0 })
      const api = yield* client(Retry.transient({ times: 3, jitter: "none", base: "1 millis", budget }))
      for (let i = 0; i < 10; i++) yield* run(api.get("/x"), "10 millis")
      // 10 calls → 2 retries allowed (20%), not 30.
      expect(server.times).toHaveLength(12)
      expect(yield* budget.snapshot).toEqual({ calls: 10, retries: 2 })
      // The window slides: after 10 s the old calls no longer pay for retries.
      yield* TestClock.adjust("11 seconds")
      expect(yield* budget.snapshot).toEqual({ calls: 0, retries: 0 })
      const giveUps = yield* Metric.value(
        Retry.giveUps.pipe(
          Metric.tagged("client", "api.example.com"),
          Metric.tagged("why", "BudgetExhausted")
        )
      )
      expect(giveUps.count).toBeGreaterThanOrEqual(8)
    }).pipe(withRoutes([MockHttp.get("/v1/x", server.handler)]))
  })

  it.effect("a budget with garbage options dies with a message, never throws", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Retry.budget({ ratio: 0.2, window: "soon" as Duration.DurationInput }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("window a positive finite duration")
      const ratio = yield* Effect.exit(Retry.budget({ ratio: -1, window: "1 second" }))
      expect(Exit.isFailure(ratio)).toBe(true)
    }))

  it.effect("minRetries lets a quiet client retry at all", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0.1, window: "1 minute", minRetries: 2 })
      expect(yield* budget.withdraw).toBe(true)
      expect(yield* budget.withdraw).toBe(true)
      expect(yield* budget.withdraw).toBe(false)
      for (let i = 0; i < 10; i++) yield* budget.deposit
      expect(yield* budget.withdraw).toBe(true)
      expect(yield* budget.withdraw).toBe(false)
    }))

  it.effect("logs, traces and counts every retry without leaking secrets", () => {
    const secret = "sk_live_SENTINEL_4242"
    const server = stamped(MockHttp.status(503, { "retry-after": "2" }), MockHttp.json(200, {}))
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: base,
        name: "observed",
        headers: { authorization: Redacted.make(`Bearer ${secret}`) },
        retry: Retry.transient({ jitter: "none", base: "100 millis" })
      })
      yield* run(api.get("/things/:id", { params: { id: "t1" }, query: { api_key: secret } }))
      const capture = yield* Capture.Capture
      const line = capture.logs.find((l) => String(l.message).startsWith("apikit retry"))!
      expect(line.level).toBe("INFO")
      expect(line.annotations).toMatchObject({
        client: "observed",
        method: "GET",
        route: "/things/:id",
        attempt: 1,
        delayMs: 2000,
        reason: "RateLimited",
        status: 503
      })
      const call = capture.spans.find((s) => s.name === "apikit.call")!
      expect(call.events.filter((e) => e.name === "apikit.retry")).toEqual([{
        name: "apikit.retry",
        attributes: { "apikit.retry.attempt": 1, "apikit.retry.delay_ms": 2000, "apikit.retry.reason": "RateLimited" }
      }])
      const histogram = yield* Metric.value(
        Retry.retryDelays.pipe(
          Metric.tagged("client", "observed"),
          Metric.tagged("reason", "RateLimited"),
          Metric.tagged("attempt", "1")
        )
      )
      expect(histogram.count).toBe(1)
      expect(histogram.sum).toBe(2000)
      expect(capture.dump()).not.toContain(secret)
      const sent = yield* MockHttp.requests
      expect(sent.map((r) => r.headers["authorization"])).toEqual([`Bearer ${secret}`, `Bearer ${secret}`])
    }).pipe(withRoutes([MockHttp.get("/v1/things/:id", server.handler)]))
  })

  it.effect("invalid options die with a message that says which", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Retry.retry(Effect.void, Retry.transient({ times: -1 })))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("times must be a non-negative integer")
      const factor = yield* Effect.exit(Retry.retry(Effect.void, Retry.transient({ factor: 0.5 })))
      expect(Exit.isFailure(factor) && String(factor.cause)).toContain("factor must be >= 1")
    }))
})

describe("Retry.retry on any Effect", () => {
  it.effect("retries ApiErrors of a plain effect and returns other errors at once", () =>
    Effect.gen(function*() {
      let n = 0
      const flaky = Effect.suspend(() => {
        n++
        return n < 3
          ? Effect.fail(new ApiError.Transport({ method: "GET", url: "u", reason: "ConnectionReset", detail: "x" }))
          : Effect.succeed(n)
      })
      const policy = Retry.transient({ jitter: "none", base: "1 second" })
      expect(yield* run(flaky.pipe(Retry.retry(policy)))).toEqual(Either.right(3))

      let m = 0
      const notApi = Effect.suspend(() => {
        m++
        return Effect.fail("boom" as const)
      })
      expect(yield* run(Retry.retry(notApi, policy))).toEqual(Either.left("boom"))
      expect(m).toBe(1)
    }))

  it.effect("is interruptible while waiting", () =>
    Effect.gen(function*() {
      const failing = Effect.fail(new ApiError.ServerError({ method: "GET", url: "u", status: 503 }))
      const fiber = yield* Effect.fork(Retry.retry(failing, Retry.transient({ jitter: "none", base: "1 minute" })))
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
    }))

  it("isTransient classifies like the policy", () => {
    expect(Retry.isTransient(new ApiError.ServerError({ method: "GET", url: "u", status: 503 }))).toBe(true)
    expect(Retry.isTransient(new ApiError.ServerError({ method: "GET", url: "u", status: 501 }))).toBe(false)
    expect(Retry.isTransient(new ApiError.NotFound({ method: "GET", url: "u", status: 404 }))).toBe(false)
    expect(
      Retry.isTransient(
        new ApiError.Timeout({ method: "GET", url: "u", reason: "Deadline", after: Duration.seconds(1) })
      )
    ).toBe(false)
  })
})
