import { QuotaStore } from "@apikit/rate-limit"
import { Redis, RedisQuotaStore } from "@apikit/redis"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import * as Support from "./support/redis.js"

const W = 1000
const LIMIT = 100

/** The same arithmetic in memory and in Redis's Lua: this suite is its contract. */
const contract = (layer: () => Layer.Layer<QuotaStore.QuotaStore, unknown>) => {
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

describe("QuotaStore contract: memory", () => contract(() => QuotaStore.QuotaStore.layerMemory))

describe.skipIf(!Support.available)("QuotaStore contract: Redis", () => {
  contract(() => RedisQuotaStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("instances share one budget, and the key expires once idle", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const store = () =>
        Support.instance(
          QuotaStore.QuotaStore,
          RedisQuotaStore.layer({ idle: "5 seconds" }).pipe(Layer.provide(Support.layer({ prefix })))
        )
      const a = yield* store()
      const b = yield* store()
      const now = yield* Clock.currentTimeMillis
      yield* a.observe("crm", { limit: 10, remaining: 3, resetAt: now + 3000 }, W)
      expect((yield* b.acquire("crm", 2, LIMIT, W))._tag).toBe("Admitted")
      expect((yield* a.acquire("crm", 1, LIMIT, W))._tag).toBe("Admitted")
      expect((yield* b.acquire("crm", 1, LIMIT, W))._tag).toBe("Wait")
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.length).toBe(1)
      expect(keys[0]![1]).toBeGreaterThan(3000)
      expect(keys[0]![1]).toBeLessThanOrEqual(8000)
    }))
})
