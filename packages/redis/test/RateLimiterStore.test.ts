import { Redis, RedisRateLimiterStore } from "@apikit/redis"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, TestClock } from "effect"
import * as Support from "./support/redis.js"

const contract = (layer: () => Layer.Layer<RateLimiter.RateLimiterStore, unknown>) => {
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
        // Redis keeps whole milliseconds and rounds each 3333.3 ms period up: at most 1 ms per permit late.
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
}

describe("RateLimiterStore contract: memory", () => contract(() => RateLimiter.layerStoreMemory))

describe.skipIf(!Support.available)("RateLimiterStore contract: Redis", () => {
  contract(() => RedisRateLimiterStore.layer().pipe(Layer.provide(Support.layer())))

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

  it.scoped("token bucket: answers exactly as the memory store over 300 random takes on the Clock", () =>
    Effect.gen(function*() {
      const redis = yield* Support.instance(
        RateLimiter.RateLimiterStore,
        RedisRateLimiterStore.layer().pipe(Layer.provide(Support.layer()))
      )
      const memory = yield* Support.instance(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory)
      let seed = 42
      const random = () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
        return seed / 4294967296
      }
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
        answers.push([yield* memory.tokenBucket(take), yield* redis.tokenBucket(take)])
      }
      expect(answers.map(([, r]) => r)).toEqual(answers.map(([m]) => m))
      // Both refills and refusals happened, or the comparison proves little.
      expect(answers.some(([m]) => m < 0)).toBe(true)
      expect(answers.some(([m]) => m >= 3)).toBe(true)
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
