import { PauseStore } from "@apikit/rate-limit"
import { Redis, RedisPauseStore } from "@apikit/redis"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import * as Support from "./support/redis.js"

/** Whether a stored answer blocks at `now` (a store may return a time already past: that is no pause). */
const blocked = (until: number | undefined, now: number) => until !== undefined && until > now

const contract = (layer: () => Layer.Layer<PauseStore.PauseStore, unknown>) => {
  it.effect("no pause is known until one is stored; it ends at T on the Clock", () =>
    Effect.gen(function*() {
      const store = yield* PauseStore.PauseStore
      const now = yield* Clock.currentTimeMillis
      expect(yield* store.get("crm")).toBeUndefined()
      yield* store.pause("crm", now + 2000)
      expect(yield* store.get("crm")).toBe(now + 2000)
      expect(yield* store.get("billing")).toBeUndefined()
      yield* TestClock.adjust("2 seconds")
      expect(blocked(yield* store.get("crm"), yield* Clock.currentTimeMillis)).toBe(false)
    }).pipe(Effect.provide(layer())))

  it.effect("a later pause wins; an earlier one does not shorten it", () =>
    Effect.gen(function*() {
      const store = yield* PauseStore.PauseStore
      const now = yield* Clock.currentTimeMillis
      yield* store.pause("crm", now + 5000)
      yield* store.pause("crm", now + 1000)
      expect(yield* store.get("crm")).toBe(now + 5000)
      yield* store.pause("crm", now + 9000)
      expect(yield* store.get("crm")).toBe(now + 9000)
    }).pipe(Effect.provide(layer())))

  it.effect("a pause already in the past is no pause", () =>
    Effect.gen(function*() {
      const store = yield* PauseStore.PauseStore
      yield* TestClock.adjust("10 seconds")
      const now = yield* Clock.currentTimeMillis
      yield* store.pause("crm", now - 1)
      expect(blocked(yield* store.get("crm"), now)).toBe(false)
    }).pipe(Effect.provide(layer())))
}

describe("PauseStore contract: memory", () => contract(() => PauseStore.PauseStore.layerMemory))

describe.skipIf(!Support.available)("PauseStore contract: Redis", () => {
  contract(() => RedisPauseStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("instances share pauses, and the key expires at T", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const store = () =>
        Support.instance(PauseStore.PauseStore, RedisPauseStore.layer().pipe(Layer.provide(Support.layer({ prefix }))))
      const a = yield* store()
      const b = yield* store()
      const now = yield* Clock.currentTimeMillis
      yield* a.pause("crm", now + 3000)
      expect(yield* b.get("crm")).toBe(now + 3000)
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.length).toBe(1)
      expect(keys[0]![1]).toBeGreaterThan(0)
      expect(keys[0]![1]).toBeLessThanOrEqual(3000)
    }))
})
