/**
 * Contract suites for apikit's stores, for anyone who writes one (DynamoDB,
 * Postgres, Memcached, ...): the same tests apikit's memory and Redis stores
 * pass, runnable with `@effect/vitest` in your own test files.
 *
 * ```ts
 * import * as StoreContracts from "@apikit/testing/StoreContracts"
 * import { describe } from "@effect/vitest"
 *
 * describe("my circuit-breaker store", () => StoreContracts.circuitBreakerStore(() => MyStore.layer))
 * describe("my token store", () => StoreContracts.tokenStore(() => MyTokenStore.layer))
 * describe("my rate limiter store", () => StoreContracts.rateLimiterStore(() => MyLimiterStore.layer))
 * describe("my quota store", () => StoreContracts.quotaStore(() => MyQuotaStore.layer))
 * describe("my replay guard", () => StoreContracts.replayGuard(() => MyReplayGuard.layer))
 * ```
 *
 * `layer` is called once per test and must give a store with no state yet (a
 * fresh key prefix, for a shared server). Time is passed to circuit stores as
 * `now` and read from the Clock by the others, so `TestClock` drives them all.
 * This module imports vitest: import it from test files only (it is not
 * re-exported from `@apikit/testing`).
 *
 * @since 0.1.0
 */
import * as TokenStore from "@apikit/auth/TokenStore"
import * as CircuitBreaker from "@apikit/circuit-breaker/CircuitBreaker"
import * as Store from "@apikit/circuit-breaker/CircuitBreakerStore"
import * as QuotaStore from "@apikit/rate-limit/QuotaStore"
import * as ReplayGuard from "@apikit/webhooks/ReplayGuard"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"

type Service = Store.Store

const consecutive: Store.Config = { trip: [CircuitBreaker.consecutive(3)], probes: 1 }
const mixed: Store.Config = {
  trip: [
    CircuitBreaker.consecutive(4),
    CircuitBreaker.failureRate({ threshold: 0.5, window: 6, minimumCalls: 4 }),
    CircuitBreaker.slowCallRate({ threshold: 0.5, slowerThan: "200 millis", duration: "2 seconds", minimumCalls: 3 })
  ],
  probes: 2
}

/** A seeded generator (the test must replay the same operations on both stores). */
const lcg = (seed: number) => () => {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Runs one random sequence of operations and returns every answer. */
const script = (store: Service, seed: number) =>
  Effect.gen(function*() {
    const random = lcg(seed)
    const answers: Array<unknown> = []
    const held: Array<{ key: string; permit: Exclude<Store.Permit, { _tag: "Rejected" }> }> = []
    let now = 10_000
    for (let step = 0; step < 400; step++) {
      now += Math.floor(random() * 400)
      const key = random() < 0.7 ? "a" : "b"
      const config = key === "a" ? mixed : consecutive
      const r = random()
      if (r < 0.45) {
        const acquired = yield* store.acquire({ key, config, now, leaseMillis: 1500 })
        answers.push(acquired)
        if (acquired.permit._tag !== "Rejected") held.push({ key, permit: acquired.permit })
      } else if (r < 0.9) {
        if (held.length === 0) continue
        const { key: k, permit } = held.splice(Math.floor(random() * held.length), 1)[0]!
        const o = random()
        const outcome: Store.Outcome = {
          _tag: o < 0.45 ? "Failure" : o < 0.9 ? "Success" : "Ignored",
          durationMillis: Math.floor(random() * 400)
        }
        answers.push(
          yield* store.record({
            key: k,
            config: k === "a" ? mixed : consecutive,
            permit,
            outcome,
            openMillis: 1000 + Math.floor(random() * 2000),
            now
          })
        )
      } else if (r < 0.91) {
        answers.push(yield* store.isolate({ key, now }))
      } else if (r < 0.95) {
        answers.push(yield* store.reset({ key, now }))
      } else {
        answers.push(yield* store.snapshot({ key, now }))
      }
    }
    return answers
  })

/**
 * The circuit-breaker store contract: trips, rejects, probes with expiring
 * leases, isolates and resets, words its transitions like the memory store,
 * and answers exactly as apikit's memory store over 400 random operations
 * (three seeds) that reach every transition.
 *
 * @since 0.1.0
 * @category contracts
 */
export const circuitBreakerStore = (layer: () => Layer.Layer<Store.CircuitBreakerStore, unknown>): void => {
  const run = <A>(f: (store: Service) => Effect.Effect<A>) =>
    Effect.flatMap(Store.CircuitBreakerStore, f).pipe(Effect.provide(layer()))

  it.effect("trips after 3 consecutive failures, rejects while open, probes once, closes on success", () =>
    run((store) =>
      Effect.gen(function*() {
        const key = "crm"
        const config = consecutive
        let now = 1_000_000
        for (let i = 0; i < 3; i++) {
          const { permit } = yield* store.acquire({ key, config, now, leaseMillis: 5000 })
          expect(permit._tag).toBe("Call")
          if (permit._tag === "Rejected") return
          const t = yield* store.record({
            key,
            config,
            permit,
            outcome: { _tag: "Failure", durationMillis: 10 },
            openMillis: 30_000,
            now
          })
          if (i < 2) expect(t).toBeUndefined()
          else {
            expect(t).toEqual({
              key,
              from: "Closed",
              to: "Open",
              reason: "Tripped",
              at: now,
              openMillis: 30_000,
              detail: "3 consecutive failures"
            })
          }
        }
        now += 10_000
        expect((yield* store.acquire({ key, config, now, leaseMillis: 5000 })).permit).toEqual({
          _tag: "Rejected",
          state: "Open",
          retryAfterMillis: 20_000
        })
        expect(yield* store.snapshot({ key, now })).toEqual({ state: "Open", opened: 1, retryAfterMillis: 20_000 })
        now += 20_000
        const probe = yield* store.acquire({ key, config, now, leaseMillis: 5000 })
        expect(probe.permit).toEqual({ _tag: "Probe", generation: 2, opened: 1, lease: 1 })
        expect(probe.transition).toEqual({ key, from: "Open", to: "HalfOpen", reason: "OpenElapsed", at: now })
        // The only probe slot is taken until the lease ends.
        expect((yield* store.acquire({ key, config, now: now + 1000, leaseMillis: 5000 })).permit).toEqual({
          _tag: "Rejected",
          state: "HalfOpen",
          retryAfterMillis: 4000
        })
        if (probe.permit._tag === "Rejected") return
        const closed = yield* store.record({
          key,
          config,
          permit: probe.permit,
          outcome: { _tag: "Success", durationMillis: 5 },
          openMillis: 30_000,
          now: now + 1500
        })
        expect(closed).toEqual({
          key,
          from: "HalfOpen",
          to: "Closed",
          reason: "ProbesSucceeded",
          at: now + 1500,
          detail: "1 probe(s) succeeded"
        })
        expect(yield* store.snapshot({ key, now })).toEqual({ state: "Closed", opened: 0, retryAfterMillis: undefined })
      })
    ))

  it.effect("a probe whose holder never reports frees its slot when the lease expires", () =>
    run((store) =>
      Effect.gen(function*() {
        const key = "crm"
        const config = consecutive
        yield* store.isolate({ key, now: 0 })
        yield* store.reset({ key, now: 0 })
        for (let i = 0; i < 3; i++) {
          const { permit } = yield* store.acquire({ key, config, now: 0, leaseMillis: 5000 })
          if (permit._tag === "Rejected") return expect.unreachable()
          yield* store.record({
            key,
            config,
            permit,
            outcome: { _tag: "Failure", durationMillis: 1 },
            openMillis: 1000,
            now: 0
          })
        }
        const first = yield* store.acquire({ key, config, now: 1000, leaseMillis: 5000 })
        expect(first.permit._tag).toBe("Probe")
        expect((yield* store.acquire({ key, config, now: 5999, leaseMillis: 5000 })).permit._tag).toBe("Rejected")
        const second = yield* store.acquire({ key, config, now: 6000, leaseMillis: 5000 })
        expect(second.permit).toEqual({ _tag: "Probe", generation: 4, opened: 1, lease: 2 })
        // The crashed holder's late report is ignored: its lease is gone.
        if (first.permit._tag === "Rejected") return
        expect(
          yield* store.record({
            key,
            config,
            permit: first.permit,
            outcome: { _tag: "Failure", durationMillis: 1 },
            openMillis: 1000,
            now: 6001
          })
        ).toBeUndefined()
      })
    ))

  it.effect("isolate holds the circuit open (retry after Infinity) until reset", () =>
    run((store) =>
      Effect.gen(function*() {
        const key = "crm"
        expect(yield* store.isolate({ key, now: 5 })).toMatchObject({
          from: "Closed",
          to: "Isolated",
          reason: "Isolated"
        })
        expect(yield* store.isolate({ key, now: 6 })).toBeUndefined()
        expect((yield* store.acquire({ key, config: consecutive, now: 7, leaseMillis: 10 })).permit).toEqual({
          _tag: "Rejected",
          state: "Isolated",
          retryAfterMillis: Infinity
        })
        expect((yield* store.snapshot({ key, now: 7 })).retryAfterMillis).toBe(Infinity)
        expect(yield* store.reset({ key, now: 8 })).toMatchObject({ from: "Isolated", to: "Closed", reason: "Reset" })
        expect((yield* store.acquire({ key, config: consecutive, now: 9, leaseMillis: 10 })).permit._tag).toBe("Call")
      })
    ))

  it.effect("words a failure-rate trip like the memory store", () =>
    run((store) =>
      Effect.gen(function*() {
        const key = "rate"
        const outcomes = ["Success", "Failure", "Success", "Failure"] as const
        let last: Store.Transition | undefined
        for (const tag of outcomes) {
          const { permit } = yield* store.acquire({ key, config: mixed, now: 100, leaseMillis: 10 })
          if (permit._tag === "Rejected") return expect.unreachable()
          last = yield* store.record({
            key,
            config: mixed,
            permit,
            outcome: { _tag: tag, durationMillis: 1 },
            openMillis: 500,
            now: 100
          })
        }
        expect(last?.detail).toBe("failure rate 50% ≥ 50% over the last 4 calls")
      })
    ))

  it.effect("answers exactly as apikit's memory store over 400 random operations (3 seeds)", () =>
    Effect.gen(function*() {
      for (const seed of [1, 7, 42]) {
        const expected = yield* script(Store.makeMemory(), seed)
        const actual = yield* Effect.flatMap(Store.CircuitBreakerStore, (store) => script(store, seed)).pipe(
          Effect.provide(layer())
        )
        expect(actual).toEqual(expected)
        // The sequence must exercise the whole machine, or the comparison proves little.
        const reasons = new Set(expected.flatMap((a) => {
          const t = a !== null && typeof a === "object" && "transition" in a ? a.transition : a
          return t !== null && typeof t === "object" && "reason" in t ? [t.reason] : []
        }))
        expect([...reasons].sort()).toEqual(
          ["Isolated", "OpenElapsed", "ProbeFailed", "ProbesSucceeded", "Reset", "Tripped"]
        )
      }
    }))
}

/**
 * The sentinel secrets of {@link sampleToken}: a store's own tests can check
 * that neither shows up where it must not (an error message, a log line).
 *
 * @since 0.1.0
 * @category fixtures
 */
export const sampleSecrets = {
  accessToken: "sentinel-access-token-7f3a",
  refreshToken: "sentinel-refresh-token-9c1d"
} as const

/**
 * The token set the token store contract stores: obtained at `now`, valid for
 * an hour, with a refresh token and a scope, for a store's own further tests.
 *
 * @since 0.1.0
 * @category fixtures
 */
export const sampleToken = (now: number, accessToken: string = sampleSecrets.accessToken): TokenStore.StoredToken =>
  new TokenStore.StoredToken({
    accessToken: Redacted.make(accessToken),
    tokenType: "Bearer",
    obtainedAt: now,
    expiresAt: now + 3_600_000,
    refreshToken: Redacted.make(sampleSecrets.refreshToken),
    scope: "projects:read"
  })

/**
 * The token store contract: stores and reads back a token set with its secrets
 * intact, drops an entry whose ttl passed on the Clock, and a set replaces the
 * previous token set.
 *
 * @since 0.1.0
 * @category contracts
 */
export const tokenStore = (layer: () => Layer.Layer<TokenStore.TokenStore, unknown>): void => {
  it.effect("stores, reads back (secrets intact) and deletes a token set", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      expect(Option.isNone(yield* store.get("crm"))).toBe(true)
      yield* store.set("crm", sampleToken(now))
      const read = Option.getOrThrow(yield* store.get("crm"))
      expect(Redacted.value(read.accessToken)).toBe(sampleSecrets.accessToken)
      expect(Redacted.value(read.refreshToken!)).toBe(sampleSecrets.refreshToken)
      expect(read.expiresAt).toBe(now + 3_600_000)
      expect(read.scope).toBe("projects:read")
      yield* store.delete("crm")
      expect(Option.isNone(yield* store.get("crm"))).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.effect("an entry stored with a ttl is gone once it passes on the Clock", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      yield* store.set("crm", sampleToken(now), { ttl: "1 minute" })
      yield* TestClock.adjust("59 seconds")
      expect(Option.isSome(yield* store.get("crm"))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* store.get("crm"))).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.effect("a set replaces the previous token set (a rotated refresh token is what is read next)", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      yield* store.set("crm", sampleToken(now, "first"))
      yield* store.set("crm", sampleToken(now, "second"))
      expect(Redacted.value(Option.getOrThrow(yield* store.get("crm")).accessToken)).toBe("second")
    }).pipe(Effect.provide(layer())))
}

/**
 * The rate limiter store contract (`@effect/experimental`'s `RateLimiterStore`,
 * which apikit's limiter runs on): fixed window and token bucket, failing and
 * delaying, independent keys, and token-bucket answers exactly as
 * `@effect/experimental`'s own memory store over 300 random takes on the Clock.
 *
 * @since 0.1.0
 * @category contracts
 */
export const rateLimiterStore = (layer: () => Layer.Layer<RateLimiter.RateLimiterStore, unknown>): void => {
  it.effect("fixed window, fail: `limit` permits, then RateLimitExceeded with the time to the window's end", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter.make
      const take = limiter.consume({ key: "crm", limit: 3, window: "10 seconds", onExceeded: "fail" })
      const results = [yield* take, yield* take, yield* take]
      expect(results.map((r) => r.remaining)).toEqual([2, 1, 0])
      const error = yield* Effect.flip(take)
      expect(error.reason).toBe("Exceeded")
      if (error.reason === "Exceeded") {
        expect(Duration.toMillis(error.retryAfter)).toBeGreaterThan(9000)
        // A store that keeps whole milliseconds may round each 3333.3 ms period up: at most 1 ms per permit late.
        expect(Duration.toMillis(error.retryAfter)).toBeLessThanOrEqual(10_003)
      }
      // Keys are independent.
      expect((yield* limiter.consume({ key: "billing", limit: 3, window: "10 seconds", onExceeded: "fail" })).remaining)
        .toBe(2)
    }).pipe(Effect.provide(layer())))

  it.effect("fixed window, delay: the permit after `limit` waits about one window", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter.make
      const take = limiter.consume({ key: "crm", limit: 2, window: "10 seconds", onExceeded: "delay" })
      expect(Duration.toMillis((yield* take).delay)).toBe(0)
      expect(Duration.toMillis((yield* take).delay)).toBe(0)
      const third = Duration.toMillis((yield* take).delay)
      expect(third).toBeGreaterThan(9000)
      expect(third).toBeLessThanOrEqual(10_000)
    }).pipe(Effect.provide(layer())))

  it.effect("token bucket, fail: a burst of `limit`, then the wait for one refill", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter.make
      const take = limiter.consume({
        key: "crm",
        limit: 2,
        window: "1 second",
        algorithm: "token-bucket",
        onExceeded: "fail"
      })
      expect((yield* take).remaining).toBe(1)
      expect((yield* take).remaining).toBe(0)
      const error = yield* Effect.flip(take)
      if (error.reason !== "Exceeded") return expect.unreachable(error.message)
      expect(Duration.toMillis(error.retryAfter)).toBe(500)
    }).pipe(Effect.provide(layer())))

  it.effect("token bucket, delay: overflow goes negative and says how long to wait", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter.make
      const take = limiter.consume({ key: "crm", limit: 2, window: "1 second", algorithm: "token-bucket" })
      yield* take
      yield* take
      const third = yield* limiter.consume({
        key: "crm",
        limit: 2,
        window: "1 second",
        algorithm: "token-bucket",
        onExceeded: "delay"
      })
      expect(Duration.toMillis(third.delay)).toBe(500)
    }).pipe(Effect.provide(layer())))

  it.scoped("token bucket: answers exactly as @effect/experimental's memory store over 300 random takes", () =>
    Effect.gen(function*() {
      const store = Context.get(yield* Layer.build(layer()), RateLimiter.RateLimiterStore)
      const reference = Context.get(yield* Layer.build(RateLimiter.layerStoreMemory), RateLimiter.RateLimiterStore)
      const random = lcg(42)
      const answers: Array<[number, number]> = []
      for (let i = 0; i < 300; i++) {
        yield* TestClock.adjust(Duration.millis(Math.floor(random() * 120)))
        const take = {
          key: random() < 0.5 ? "a" : "b",
          tokens: 1 + Math.floor(random() * 3),
          limit: 5,
          refillRate: Duration.millis(100),
          allowOverflow: random() < 0.3
        }
        answers.push([yield* reference.tokenBucket(take), yield* store.tokenBucket(take)])
      }
      expect(answers.map(([, r]) => r)).toEqual(answers.map(([m]) => m))
      // Both refills and refusals happened, or the comparison proves little.
      expect(answers.some(([m]) => m < 0)).toBe(true)
      expect(answers.some(([m]) => m >= 3)).toBe(true)
    }))
}

const quotaWindow = 1000
const quotaLimit = 100

/**
 * The quota store contract (`@apikit/rate-limit`'s `QuotaStore`, the budget
 * an adaptive limiter learns from the server's headers): admissions against
 * what the server said minus what is in flight, stale answers that lower a
 * budget but never raise it, weighted costs, a configured limit below the
 * server's, pauses, and the window rolling over at the reset on the Clock.
 *
 * @since 0.1.0
 * @category contracts
 */
export const quotaStore = (layer: () => Layer.Layer<QuotaStore.QuotaStore, unknown>): void => {
  const W = quotaWindow
  const LIMIT = quotaLimit
  const admitted = (a: QuotaStore.Admission) => a._tag === "Admitted"

  it.effect("nothing known: admits; told r=2 with 1 in flight: one more, then wait for the reset", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      const a = yield* store.acquire("k", 1, LIMIT, W)
      const b = yield* store.acquire("k", 1, LIMIT, W)
      expect([a, b].every(admitted)).toBe(true)
      const epoch = a._tag === "Admitted" ? a.epoch : -1
      // a is answered: 2 remain until now+1000; b is still in flight.
      const s = yield* store.release(
        "k",
        { cost: 1, epoch, sent: true },
        { limit: 10, remaining: 2, resetAt: now + W },
        W
      )
      expect(s).toEqual({ changed: true, limit: 10, window: undefined, available: 1 })
      expect(admitted(yield* store.acquire("k", 1, LIMIT, W))).toBe(true)
      expect(yield* store.acquire("k", 1, LIMIT, W)).toEqual({ _tag: "Wait", until: now + W, paused: false })
      // b's answer is stale (8 remaining: it was counted before a's 2). Its place is free,
      // as the 2 already counted it, but the 8 does not re-open the gate.
      yield* store.release("k", { cost: 1, epoch, sent: true }, { limit: 10, remaining: 8, resetAt: now + W }, W)
      expect(admitted(yield* store.acquire("k", 1, LIMIT, W))).toBe(true)
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Wait")
      // At the reset the window rolls: the server's limit, minus what is still in flight.
      yield* TestClock.adjust(W)
      const results = []
      for (let i = 0; i < 12; i++) results.push(yield* store.acquire("k", 1, LIMIT, W))
      // 10, minus the two still in flight from the last window.
      expect(results.filter(admitted).length).toBe(8)
    }).pipe(Effect.provide(layer())))

  it.effect("an answer from an older window lowers this one's budget, never raises it; an unsent call is free", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      yield* store.observe("k", { limit: 5, remaining: 0, resetAt: now + W }, W)
      yield* TestClock.adjust(W)
      const a = yield* store.acquire("k", 1, LIMIT, W)
      expect(a._tag).toBe("Admitted")
      const epoch = a._tag === "Admitted" ? a.epoch : -1
      // Calls of the window before, answered late: the server counted them in this one.
      yield* store.release("k", { cost: 1, epoch: epoch - 1, sent: true }, { remaining: 3, resetAt: now + W }, W)
      yield* store.release("k", { cost: 1, epoch: epoch - 1, sent: true }, { remaining: 4, resetAt: now + W }, W)
      const s = yield* store.release("k", { cost: 1, epoch, sent: false }, undefined, W)
      expect(s.available).toBe(3)
    }).pipe(Effect.provide(layer())))

  it.effect("costs: a cost above the server's limit is never admitted; weighted budgets", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      yield* store.observe("gql", { limit: 1000, remaining: 100, resetAt: now + 10_000 }, 10_000)
      expect(yield* store.acquire("gql", 1001, 1_000_000, 10_000)).toEqual({ _tag: "TooCostly", limit: 1000 })
      expect((yield* store.acquire("gql", 60, 1_000_000, 10_000))._tag).toBe("Admitted")
      expect((yield* store.acquire("gql", 50, 1_000_000, 10_000))._tag).toBe("Wait")
      expect((yield* store.acquire("gql", 40, 1_000_000, 10_000))._tag).toBe("Admitted")
    }).pipe(Effect.provide(layer())))

  it.effect("a configured limit below the server's caps it, when the server names its window", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      // The server allows 10 per second and has counted 2; configured: 5 per second.
      yield* store.observe("k", { limit: 10, remaining: 8, resetAt: now + W, window: W }, W)
      const results = []
      for (let i = 0; i < 5; i++) results.push((yield* store.acquire("k", 1, 5, W))._tag)
      expect(results).toEqual(["Admitted", "Admitted", "Admitted", "Wait", "Wait"])
    }).pipe(Effect.provide(layer())))

  it.effect("a window nobody answered: calls in flight hold it open past its reset, a window at most", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      yield* store.observe("k", { limit: 2, remaining: 0, resetAt: now + W }, W)
      yield* TestClock.adjust(W)
      // The window rolls; its only call is never answered (its caller was interrupted).
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Admitted")
      yield* TestClock.adjust(W)
      // At its reset it is held: the server may not have seen that call yet ...
      const held = { _tag: "Wait", until: now + 3 * W, paused: false }
      expect(yield* store.acquire("k", 1, LIMIT, W)).toEqual(held)
      yield* TestClock.adjust(W - 1)
      expect(yield* store.acquire("k", 1, LIMIT, W)).toEqual(held)
      // ... and then it rolls anyway (the unanswered call counts in the next one).
      yield* TestClock.adjust(1)
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Admitted")
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Wait")
      // A long window is held `presumedLost` at most.
      const hour = 3_600_000
      const start = yield* Clock.currentTimeMillis
      yield* store.observe("h", { limit: 2, remaining: 0, resetAt: start + hour, window: hour }, hour)
      yield* TestClock.adjust(hour)
      expect((yield* store.acquire("h", 1, LIMIT, hour))._tag).toBe("Admitted")
      yield* TestClock.adjust(hour)
      expect(yield* store.acquire("h", 1, LIMIT, hour)).toEqual({
        _tag: "Wait",
        until: start + 2 * hour + QuotaStore.presumedLost,
        paused: false
      })
    }).pipe(Effect.provide(layer())))

  it.effect("nothing known: calls never answered count for two epochs of presumedLost, then drop out", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const lost = QuotaStore.presumedLost
      // Five calls are admitted while the server has said nothing, and are never answered.
      for (const key of ["k", "j"]) {
        for (let i = 0; i < 5; i++) expect((yield* store.acquire(key, 1, LIMIT, W))._tag).toBe("Admitted")
      }
      // Calls slower than a window still count: a window later they are all still there.
      yield* TestClock.adjust(W)
      const now1 = yield* Clock.currentTimeMillis
      expect((yield* store.observe("j", { limit: 10, remaining: 10, resetAt: now1 + W }, W)).available).toBe(5)
      yield* TestClock.adjust(lost - W)
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Admitted")
      yield* TestClock.adjust(lost)
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Admitted")
      // The first answer: 10 left, minus the calls of the last two epochs (the five are gone).
      const now = yield* Clock.currentTimeMillis
      const s = yield* store.observe("k", { limit: 10, remaining: 10, resetAt: now + W }, W)
      expect(s.available).toBe(8)
    }).pipe(Effect.provide(layer())))

  it.effect("nothing known: an answer admitted an epoch ago is still the first word", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const first = yield* store.acquire("k", 1, LIMIT, W)
      const epoch = first._tag === "Admitted" ? first.epoch : -1
      yield* TestClock.adjust(QuotaStore.presumedLost)
      expect((yield* store.acquire("k", 1, LIMIT, W))._tag).toBe("Admitted")
      // A slow answer to the first call: 7 left. It is learned, less the call still in flight.
      const now = yield* Clock.currentTimeMillis
      const s = yield* store.release(
        "k",
        { cost: 1, epoch, sent: true },
        { limit: 10, remaining: 7, resetAt: now + W },
        W
      )
      expect(s.available).toBe(6)
    }).pipe(Effect.provide(layer())))

  it.effect("an answer that names a limit but not what remains still charges the call", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      const now = yield* Clock.currentTimeMillis
      yield* store.observe("k", { limit: 10, remaining: 5, resetAt: now + W }, W)
      const a = yield* store.acquire("k", 1, LIMIT, W)
      const epoch = a._tag === "Admitted" ? a.epoch : -1
      const s = yield* store.release("k", { cost: 1, epoch, sent: true }, { limit: 10 }, W)
      expect(s.available).toBe(4)
    }).pipe(Effect.provide(layer())))

  it.effect("a pause: a later one wins, an earlier one does not shorten it; a reset in the past is now", () =>
    Effect.gen(function*() {
      const store = yield* QuotaStore.QuotaStore
      yield* TestClock.adjust("1 minute")
      const now = yield* Clock.currentTimeMillis
      yield* store.observe("k", { pauseUntil: now + 5000 }, W)
      yield* store.observe("k", { pauseUntil: now + 1000 }, W)
      expect(yield* store.acquire("k", 1, LIMIT, W)).toEqual({ _tag: "Wait", until: now + 5000, paused: true })
      yield* store.observe("other", { limit: 10, remaining: 0, resetAt: now - 5000 }, W)
      expect((yield* store.acquire("other", 1, LIMIT, W))._tag).toBe("Admitted")
    }).pipe(Effect.provide(layer())))
}

/**
 * The webhook replay guard contract (`@apikit/webhooks`'s `ReplayGuard`): a
 * delivery id is claimed once and a second claim is a replay, a released id
 * (its handler failed) can be processed again, and `ReplayGuard.check` fails
 * with `Replayed`. How an id expires after its ttl is the store's own (on the
 * Clock in memory, by the server's expiry in Redis), so it is not part of it.
 *
 * @since 0.1.0
 * @category contracts
 */
export const replayGuard = (layer: () => Layer.Layer<ReplayGuard.ReplayGuard, unknown>): void => {
  it.effect("claims a delivery id once; a second claim is a replay", () =>
    Effect.gen(function*() {
      const guard = yield* ReplayGuard.ReplayGuard
      expect(yield* guard.claim("svix:msg_1", Duration.minutes(5))).toBe(false)
      expect(yield* guard.claim("svix:msg_1", Duration.minutes(5))).toBe(true)
      expect(yield* guard.claim("svix:msg_2", Duration.minutes(5))).toBe(false)
    }).pipe(Effect.provide(layer())))

  it.effect("a released id can be processed again (its handler failed)", () =>
    Effect.gen(function*() {
      const guard = yield* ReplayGuard.ReplayGuard
      expect(yield* guard.claim("github:d1", Duration.minutes(5))).toBe(false)
      yield* guard.release("github:d1")
      expect(yield* guard.claim("github:d1", Duration.minutes(5))).toBe(false)
      expect(yield* guard.claim("github:d1", Duration.minutes(5))).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.effect("check fails with Replayed for a repeated id", () =>
    Effect.gen(function*() {
      yield* ReplayGuard.check("stripe", "evt_1", "5 minutes")
      const error = yield* Effect.flip(ReplayGuard.check("stripe", "evt_1", "5 minutes"))
      expect(error.reason).toBe("Replayed")
    }).pipe(Effect.provide(layer())))
}
