import { Redis, RedisRateLimiterStore } from "@apikit/redis"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Support from "./support/redis.js"

describe.skipIf(!Support.available)("RateLimiterStore contract (@apikit/testing/StoreContracts): Redis", () => {
  StoreContracts.rateLimiterStore(() => RedisRateLimiterStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("every key expires, token buckets included (the upstream Redis store leaves those forever)", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const store = yield* Support.instance(
        RateLimiter.RateLimiterStore,
        RedisRateLimiterStore.layer().pipe(Layer.provide(connection))
      )
      const limiter = yield* Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, store)
      yield* limiter.consume({ key: "fw", limit: 5, window: "1 minute" })
      yield* limiter.consume({ key: "tb", limit: 5, window: "1 minute", algorithm: "token-bucket" })
      const keys = new Map(yield* Support.keysWithTtl(client, prefix))
      expect([...keys.keys()].sort()).toEqual([`${prefix}rl:fw`, `${prefix}rl:tb`])
      // One permit of a 5-per-minute window: 12 s; a bucket one token short: about 2 refills (24 s).
      expect(keys.get(`${prefix}rl:fw`)).toBeGreaterThan(11_000)
      expect(keys.get(`${prefix}rl:fw`)).toBeLessThanOrEqual(12_000)
      expect(keys.get(`${prefix}rl:tb`)).toBeGreaterThan(0)
      expect(keys.get(`${prefix}rl:tb`)).toBeLessThanOrEqual(24_000)
    }))

  it.scoped("instances share one quota", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const limiter = () =>
        Effect.flatMap(
          Support.instance(
            RateLimiter.RateLimiterStore,
            RedisRateLimiterStore.layer().pipe(Layer.provide(Support.layer({ prefix })))
          ),
          (store) => Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, store)
        )
      const a = yield* limiter()
      const b = yield* limiter()
      const options = { key: "crm", limit: 3, window: "1 minute", onExceeded: "fail" } as const
      yield* a.consume(options)
      yield* b.consume(options)
      yield* a.consume(options)
      expect((yield* Effect.flip(b.consume(options))).reason).toBe("Exceeded")
    }))
})
