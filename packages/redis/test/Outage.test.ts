import { TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { QuotaStore } from "@apikit/rate-limit"
import {
  Redis,
  RedisCircuitBreakerStore,
  RedisQuotaStore,
  RedisRateLimiterStore,
  RedisReplayGuard,
  RedisTokenStore
} from "@apikit/redis"
import { Capture } from "@apikit/testing"
import { ReplayGuard } from "@apikit/webhooks"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, Option, Redacted, Schedule } from "effect"
import * as Support from "./support/redis.js"

const config: CircuitBreakerStore.Config = { trip: [CircuitBreaker.consecutive(2)], probes: 1 }

describe.skipIf(!Support.available)("Redis goes away mid-run", () => {
  it.live("every store applies its documented fallback, nothing crashes, and Redis is used again once back", () =>
    Effect.gen(function*() {
      const server = yield* Support.spareServer
      if (server === undefined) return expect.fail("redis-server is not installed (apt-get install redis-server)")
      const connection = yield* Layer.memoize(Redis.layer({ url: server.url, commandTimeout: "300 millis" }))
      const on = <I>(layer: Layer.Layer<I, never, Redis.Redis>) => layer.pipe(Layer.provide(connection))
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const limiterStore = yield* Support.instance(RateLimiter.RateLimiterStore, on(RedisRateLimiterStore.layer()))
      const limiterFailing = yield* Support.instance(
        RateLimiter.RateLimiterStore,
        on(RedisRateLimiterStore.layer({ onUnavailable: "fail" }))
      )
      const quotas = yield* Support.instance(QuotaStore.QuotaStore, on(RedisQuotaStore.layer()))
      const breaker = yield* Support.instance(
        CircuitBreakerStore.CircuitBreakerStore,
        on(RedisCircuitBreakerStore.layer())
      )
      const rejecting = yield* Support.instance(
        CircuitBreakerStore.CircuitBreakerStore,
        on(RedisCircuitBreakerStore.layer({ onUnavailable: "reject", rejectFor: "2 seconds" }))
      )
      const guard = yield* Support.instance(ReplayGuard.ReplayGuard, on(RedisReplayGuard.layer()))
      const tokens = yield* Support.instance(TokenStore.TokenStore, on(RedisTokenStore.layer()))
      const tokensLocal = yield* Support.instance(
        TokenStore.TokenStore,
        on(RedisTokenStore.layer({ onUnavailable: "local" }))
      )
      const limiter = yield* Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, limiterStore)
      const limiterStrict = yield* Effect.provideService(RateLimiter.make, RateLimiter.RateLimiterStore, limiterFailing)
      const take = limiter.consume({ key: "crm", limit: 2, window: "1 minute", onExceeded: "fail" })

      // Up: one shared quota.
      yield* take
      expect(yield* Effect.promise(() => client.exists("apikit:rl:crm"))).toBe(1)
      yield* Effect.promise(() => client.del("apikit:rl:crm"))

      // Redis goes away.
      yield* Effect.promise(() => client.call("SHUTDOWN", "NOSAVE").catch(() => "closed"))

      // Limiter, "local": this instance enforces the limit alone.
      yield* take
      yield* take
      expect((yield* Effect.flip(take)).reason).toBe("Exceeded")
      // Limiter, "fail": a typed store error (the rate-limit policy then sends without a permit).
      const storeError = yield* Effect.flip(limiterStrict.consume({ key: "crm", limit: 2, window: "1 minute" }))
      expect(storeError.reason).toBe("StoreError")

      // Quotas: kept locally.
      const now = yield* Clock.currentTimeMillis
      yield* quotas.observe("crm", { pauseUntil: now + 60_000 }, 1000)
      expect(yield* quotas.acquire("crm", 1, 10, 1000)).toEqual({ _tag: "Wait", until: now + 60_000, paused: true })

      // Breaker, "local": trips on this instance's failures.
      for (let i = 0; i < 2; i++) {
        const { permit } = yield* breaker.acquire({ key: "crm", config, now, leaseMillis: 1000 })
        if (permit._tag === "Rejected") return expect.unreachable()
        yield* breaker.record({
          key: "crm",
          config,
          permit,
          outcome: { _tag: "Failure", durationMillis: 1 },
          openMillis: 30_000,
          now
        })
      }
      expect((yield* breaker.acquire({ key: "crm", config, now, leaseMillis: 1000 })).permit._tag).toBe("Rejected")
      // Breaker, "reject": fails fast.
      expect((yield* rejecting.acquire({ key: "other", config, now, leaseMillis: 1000 })).permit).toEqual({
        _tag: "Rejected",
        state: "Open",
        retryAfterMillis: 2000
      })

      // Replay guard, "local": still catches a duplicate on this instance.
      expect(yield* guard.claim("svix:msg_1", Duration.minutes(5))).toBe(false)
      expect(yield* guard.claim("svix:msg_1", Duration.minutes(5))).toBe(true)

      // Tokens, "fail" (the default): a typed, transient store error; "local": this instance's tokens.
      const token = new TokenStore.StoredToken({ accessToken: Redacted.make("sentinel-token"), obtainedAt: now })
      const failed = yield* Effect.flip(tokens.set("crm", token))
      expect(failed._tag).toBe("TokenStoreError")
      expect(failed.operation).toBe("set")
      expect(failed.message).not.toContain("sentinel-token")
      expect((yield* Effect.flip(tokens.withLock!("crm", Effect.void)))._tag).toBe("TokenStoreError")
      yield* tokensLocal.set("crm", token)
      expect(Option.isSome(yield* tokensLocal.get("crm"))).toBe(true)
      expect(yield* tokensLocal.withLock!("crm", Effect.succeed("ran without the shared lock"))).toBe(
        "ran without the shared lock"
      )

      // The outage is in the logs, as warnings; never the token.
      const captured = yield* Capture.Capture
      const messages = captured.logs.map((l) => `${l.level} ${String(l.message)}`)
      expect(messages).toContain("WARN apikit redis: connection lost; stores use their fallback until it is back")
      // Three calls took the limiter's fallback; the warning says so once (a flood helps nobody).
      expect(
        messages.filter((m) =>
          m === "WARN apikit redis: the limiter store is unreachable; limiting this instance alone"
        )
      )
        .toHaveLength(1)
      expect(messages).toContain("WARN apikit redis: the circuit store is unreachable; using the fallback")
      expect(captured.dump()).not.toContain("sentinel-token")

      // Redis comes back: the connection is restored in the background and the stores use it again.
      yield* server.restart
      yield* Effect.suspend(() => client.status === "ready" ? Effect.void : Effect.fail("not yet")).pipe(
        Effect.retry(Schedule.intersect(Schedule.spaced("50 millis"), Schedule.recurs(100)))
      )
      yield* take
      expect(yield* Effect.promise(() => client.exists("apikit:rl:crm"))).toBe(1)
      expect(yield* guard.claim("svix:msg_2", Duration.minutes(5))).toBe(false)
      expect(yield* Effect.promise(() => client.exists("apikit:replay:svix:msg_2"))).toBe(1)
      yield* tokens.set("crm", token)
      expect(Option.isSome(yield* tokens.get("crm"))).toBe(true)
      expect(captured.logs.map((l) => `${l.level} ${String(l.message)}`)).toContain(
        "INFO apikit redis: connection restored"
      )
    }).pipe(Effect.scoped, Effect.provide(Capture.layer)))
})
