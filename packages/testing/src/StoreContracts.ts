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
 * ```
 *
 * `layer` is called once per test and must give a store with no state yet (a
 * fresh key prefix, for a shared server). Time is passed to circuit stores as
 * `now` and read from the Clock by token stores, so `TestClock` drives both.
 * This module imports vitest: import it from test files only (it is not
 * re-exported from `@apikit/testing`).
 *
 * @since 0.1.0
 */
import * as TokenStore from "@apikit/auth/TokenStore"
import * as CircuitBreaker from "@apikit/circuit-breaker/CircuitBreaker"
import * as Store from "@apikit/circuit-breaker/CircuitBreakerStore"
import { expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
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

const secret = "sentinel-access-token-7f3a"
const refresh = "sentinel-refresh-token-9c1d"

const token = (now: number, access = secret) =>
  new TokenStore.StoredToken({
    accessToken: Redacted.make(access),
    tokenType: "Bearer",
    obtainedAt: now,
    expiresAt: now + 3_600_000,
    refreshToken: Redacted.make(refresh),
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
      yield* store.set("crm", token(now))
      const read = Option.getOrThrow(yield* store.get("crm"))
      expect(Redacted.value(read.accessToken)).toBe(secret)
      expect(Redacted.value(read.refreshToken!)).toBe(refresh)
      expect(read.expiresAt).toBe(now + 3_600_000)
      expect(read.scope).toBe("projects:read")
      yield* store.delete("crm")
      expect(Option.isNone(yield* store.get("crm"))).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.effect("an entry stored with a ttl is gone once it passes on the Clock", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      yield* store.set("crm", token(now), { ttl: "1 minute" })
      yield* TestClock.adjust("59 seconds")
      expect(Option.isSome(yield* store.get("crm"))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(Option.isNone(yield* store.get("crm"))).toBe(true)
    }).pipe(Effect.provide(layer())))

  it.effect("a set replaces the previous token set (a rotated refresh token is what is read next)", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const now = yield* Clock.currentTimeMillis
      yield* store.set("crm", token(now, "first"))
      yield* store.set("crm", token(now, "second"))
      expect(Redacted.value(Option.getOrThrow(yield* store.get("crm")).accessToken)).toBe("second")
    }).pipe(Effect.provide(layer())))
}
