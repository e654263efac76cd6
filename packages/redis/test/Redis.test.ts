import { TokenStore } from "@apikit/auth"
import { CircuitBreakerStore } from "@apikit/circuit-breaker"
import { QuotaStore } from "@apikit/rate-limit"
import { Redis, RedisStores } from "@apikit/redis"
import { Capture } from "@apikit/testing"
import { ReplayGuard } from "@apikit/webhooks"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Context, Duration, Effect, Layer, Redacted } from "effect"
import * as Support from "./support/redis.js"

// The one line a machine without Redis prints (the other suites skip silently).
if (!Support.available) process.stderr.write(`${Support.skipNotice}\n`)

describe("Redis connection", () => {
  it.effect("an unreachable Redis fails the layer with RedisError; the password never shows", () =>
    Effect.gen(function*() {
      const port = yield* Support.freePort()
      const url = Redacted.make(`redis://:sentinel-redis-pw@127.0.0.1:${port}/0`)
      const error = yield* Effect.flip(Layer.build(Redis.layer({ url, connectTimeout: "500 millis" })))
      expect(error._tag).toBe("RedisError")
      expect(error.message).toContain(`127.0.0.1:${port}`)
      expect(error.message).toContain("REDIS_URL")
      expect(error.message).not.toContain("sentinel-redis-pw")
      expect(error.url).toBe(`redis://:***@127.0.0.1:${port}/0`)
    }).pipe(Effect.scoped))

  it.effect("layerConfig reads REDIS_URL", () =>
    Effect.gen(function*() {
      const port = yield* Support.freePort()
      const error = yield* Effect.flip(Layer.build(Redis.layerConfig({ connectTimeout: "500 millis" }))).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", `redis://127.0.0.1:${port}`]])))
      )
      expect(error._tag).toBe("RedisError")
      if (error._tag === "RedisError") expect(error.url).toBe(`redis://127.0.0.1:${port}`)
    }).pipe(Effect.scoped))

  it("maskUrl masks the password and survives garbage", () => {
    expect(Redis.maskUrl("redis://user:secret@host:6379/1")).toBe("redis://user:***@host:6379/1")
    expect(Redis.maskUrl("redis://host:6379")).toBe("redis://host:6379")
    expect(Redis.maskUrl("not a url")).toBe("<unparsable Redis URL>")
  })

  it.effect.skipIf(!Support.available)("connects, logs nothing, and closes on release", () =>
    Effect.gen(function*() {
      const { client, prefix } = yield* Support.instance(Redis.Redis, Redis.layer({ url: Support.url }))
      expect(prefix).toBe("apikit:")
      expect(yield* Effect.promise(() => client.ping())).toBe("PONG")
      expect((yield* Capture.Capture).logs).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(Capture.layer)))

  it.effect.skipIf(!Support.available)(
    "RedisStores.layerConfig provides every store from REDIS_URL",
    () =>
      Effect.gen(function*() {
        const prefix = Support.newPrefix()
        const context = yield* Layer.build(RedisStores.layerConfig({ prefix })).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["REDIS_URL", Support.url]])))
        )
        const guard = Context.get(context, ReplayGuard.ReplayGuard)
        expect(yield* guard.claim("svix:layer", Duration.seconds(5))).toBe(false)
        expect(yield* guard.claim("svix:layer", Duration.seconds(5))).toBe(true)
        expect(Context.getOption(context, RateLimiter.RateLimiterStore)._tag).toBe("Some")
        expect(Context.getOption(context, QuotaStore.QuotaStore)._tag).toBe("Some")
        expect(Context.getOption(context, CircuitBreakerStore.CircuitBreakerStore)._tag).toBe("Some")
        expect(Context.getOption(context, TokenStore.TokenStore)._tag).toBe("Some")
        yield* guard.release("svix:layer")
      }).pipe(Effect.scoped)
  )
})
