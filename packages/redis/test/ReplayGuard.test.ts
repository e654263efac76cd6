import { Redis, RedisReplayGuard } from "@apikit/redis"
import { ReplayGuard } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, TestClock } from "effect"
import * as Support from "./support/redis.js"

const contract = (layer: () => Layer.Layer<ReplayGuard.ReplayGuard, unknown>) => {
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

describe("ReplayGuard contract: memory", () => {
  contract(() => ReplayGuard.layerMemory())
  it.effect("an id is forgotten after its ttl (memory: on the Clock)", () =>
    Effect.gen(function*() {
      const guard = yield* ReplayGuard.ReplayGuard
      expect(yield* guard.claim("a", Duration.seconds(1))).toBe(false)
      yield* TestClock.adjust("1001 millis")
      expect(yield* guard.claim("a", Duration.seconds(1))).toBe(false)
    }).pipe(Effect.provide(ReplayGuard.layerMemory())))
})

describe.skipIf(!Support.available)("ReplayGuard contract: Redis", () => {
  contract(() => RedisReplayGuard.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("every id key carries the replay window as its TTL (Redis expires it)", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const guard = yield* Support.instance(
        ReplayGuard.ReplayGuard,
        RedisReplayGuard.layer().pipe(Layer.provide(connection))
      )
      yield* guard.claim("svix:msg_ttl", Duration.seconds(30))
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.map(([k]) => k)).toEqual([`${prefix}replay:svix:msg_ttl`])
      expect(keys[0]![1]).toBeGreaterThan(29_000)
      expect(keys[0]![1]).toBeLessThanOrEqual(30_000)
    }))

  it.scoped("two instances share one guard: the second sees the first one's delivery as a replay", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const guard = () =>
        Support.instance(
          ReplayGuard.ReplayGuard,
          RedisReplayGuard.layer().pipe(Layer.provide(Support.layer({ prefix })))
        )
      const a = yield* guard()
      const b = yield* guard()
      expect(yield* a.claim("svix:shared", Duration.minutes(1))).toBe(false)
      expect(yield* b.claim("svix:shared", Duration.minutes(1))).toBe(true)
    }))
})
