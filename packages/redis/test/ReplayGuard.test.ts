import { Redis, RedisReplayGuard } from "@apikit/redis"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { ReplayGuard } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import * as Support from "./support/redis.js"

describe.skipIf(!Support.available)("ReplayGuard contract (@apikit/testing/StoreContracts): Redis", () => {
  StoreContracts.replayGuard(() => RedisReplayGuard.layer().pipe(Layer.provide(Support.layer())))

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
