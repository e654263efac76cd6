import { CircuitBreaker, CircuitBreakerStore as Store } from "@apikit/circuit-breaker"
import { Redis, RedisCircuitBreakerStore } from "@apikit/redis"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Support from "./support/redis.js"

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

const contract = (layer: () => Layer.Layer<Store.CircuitBreakerStore, unknown>) => {
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

describe("CircuitBreakerStore contract: memory", () => contract(() => Store.CircuitBreakerStore.layerMemory))

describe.skipIf(!Support.available)("CircuitBreakerStore contract: Redis", () => {
  contract(() => RedisCircuitBreakerStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("answers exactly as the memory store over 400 random operations (3 seeds)", () =>
    Effect.gen(function*() {
      for (const seed of [1, 7, 42]) {
        const redis = yield* Support.instance(
          Store.CircuitBreakerStore,
          RedisCircuitBreakerStore.layer().pipe(Layer.provide(Support.layer()))
        )
        const expected = yield* script(Store.makeMemory(), seed)
        const actual = yield* script(redis, seed)
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

  it.scoped("instances share circuits: one trips it, the other is rejected; every key expires", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const instance = () =>
        Support.instance(
          Store.CircuitBreakerStore,
          RedisCircuitBreakerStore.layer({ idleTtl: "10 minutes" }).pipe(Layer.provide(Support.layer({ prefix })))
        )
      const a = yield* instance()
      const b = yield* instance()
      for (let i = 0; i < 3; i++) {
        const { permit } = yield* a.acquire({ key: "crm", config: consecutive, now: 0, leaseMillis: 10 })
        if (permit._tag === "Rejected") return expect.unreachable()
        yield* a.record({
          key: "crm",
          config: consecutive,
          permit,
          outcome: { _tag: "Failure", durationMillis: 1 },
          openMillis: 60_000,
          now: 0
        })
      }
      expect((yield* b.acquire({ key: "crm", config: consecutive, now: 1000, leaseMillis: 10 })).permit).toEqual({
        _tag: "Rejected",
        state: "Open",
        retryAfterMillis: 59_000
      })
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.map(([k]) => k)).toEqual([`${prefix}cb:crm`])
      // Open for a minute: kept for the open time plus the idle TTL.
      expect(keys[0]![1]).toBeGreaterThan(600_000)
      expect(keys[0]![1]).toBeLessThanOrEqual(660_000)
    }))
})
