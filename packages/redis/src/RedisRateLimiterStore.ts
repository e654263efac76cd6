/**
 * A `RateLimiterStore` for `@effect/experimental`'s RateLimiter (what
 * `@apikit/rate-limit` builds on) shared by every instance of an app, so N
 * instances together stay within one quota.
 *
 * The two scripts keep the semantics of `@effect/experimental/RateLimiter/Redis`
 * (the limiter's arithmetic depends on them) with two differences: the token
 * bucket lives in one hash that expires once it would be full again (the
 * upstream keys never expire), and the client is the shared, fail-fast
 * {@link Redis} connection (the upstream store opens its own client without an
 * error listener, so ioredis prints every connection error to the console).
 *
 * When Redis cannot be reached the store falls back to a per-instance memory
 * limiter (`onUnavailable: "local"`, the default): each instance then enforces
 * the full limit on its own, so N instances may send up to N times the quota
 * until Redis is back (the server's own limit and adaptive pauses still
 * apply). `"fail"` returns `RateLimitStoreError`; `@apikit/rate-limit` then
 * sends without a permit and logs it.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { outageLog, script } from "./internal/client.js"
import { Redis } from "./Redis.js"

/**
 * How the store is set up.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"local"`. */
  readonly onUnavailable?: "local" | "fail" | undefined
}

// Each taken token extends the window's expiry by one refill period; over the limit nothing changes.
// PX takes whole milliseconds, so periods round up: never shorter than asked.
const fixedWindowLua = `
local tokens = tonumber(ARGV[1])
local refillms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local current = tonumber(redis.call("GET", KEYS[1]))
if not current then
  local pttl = math.ceil(refillms * tokens)
  redis.call("SET", KEYS[1], tokens, "PX", pttl)
  return { tokens, pttl }
end
local pttl = tonumber(redis.call("PTTL", KEYS[1]))
if pttl < 0 then pttl = 0 end
local nextCount = current + tokens
if limit and limit > 0 and nextCount > limit then
  return { nextCount, pttl }
end
pttl = math.ceil(pttl + refillms * tokens)
redis.call("SET", KEYS[1], nextCount, "PX", pttl)
return { nextCount, pttl }
`

// One hash {tokens, refill}; it expires when the bucket would be full again, which is what a missing bucket means.
const tokenBucketLua = `
local take = tonumber(ARGV[1])
local refillms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local overflow = ARGV[5] == "1"
local stored = redis.call("HMGET", KEYS[1], "tokens", "refill")
local current = tonumber(stored[1])
local last = tonumber(stored[2])
if not current or not last then
  current = limit
  last = now
end
local refilled = math.floor((now - last) / refillms)
if refilled > 0 then
  current = math.min(current + refilled, limit)
  last = last + refilled * refillms
end
local nextCount = current - take
local kept = nextCount
if nextCount < 0 and not overflow then kept = current end
redis.call("HSET", KEYS[1], "tokens", kept, "refill", last)
redis.call("PEXPIRE", KEYS[1], math.max(1, math.ceil((limit - kept + 1) * refillms - (now - last))))
return nextCount
`

/**
 * The store over the {@link Redis} connection in context; keys are `<prefix>rl:<key>`.
 * Pair it with {@link RedisQuotaStore} for the adaptive state (see `RedisStores.layerRateLimit`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<RateLimiter.RateLimiterStore, never, Redis> =>
  Layer.effect(
    RateLimiter.RateLimiterStore,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = yield* Effect.provide(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory)
      const fixedWindow = script(client, "apikitFixedWindowV1", fixedWindowLua, 1)
      const tokenBucket = script(client, "apikitTokenBucketV1", tokenBucketLua, 1)
      const keyOf = (key: string) => `${prefix}rl:${key}`
      const run = <A>(key: string, f: () => Promise<A>, onLocal: Effect.Effect<A, RateLimiter.RateLimiterError>) =>
        Effect.tryPromise({ try: f, catch: (cause) => cause }).pipe(
          Effect.catchAll((cause) =>
            options.onUnavailable === "fail"
              ? Effect.fail(
                new RateLimiter.RateLimitStoreError({
                  message: `The Redis rate limiter store failed for "${key}"`,
                  cause
                })
              )
              : Effect.zipRight(
                warn("apikit redis: the limiter store is unreachable; limiting this instance alone", {
                  key,
                  detail: cause instanceof Error ? cause.message : String(cause)
                }),
                onLocal
              )
          )
        )
      return RateLimiter.RateLimiterStore.of({
        fixedWindow: (o) =>
          run(
            o.key,
            () =>
              fixedWindow(keyOf(o.key), o.tokens, Duration.toMillis(o.refillRate), o.limit ?? 0) as Promise<
                [number, number]
              >,
            local.fixedWindow(o)
          ),
        tokenBucket: (o) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            run(
              o.key,
              () =>
                tokenBucket(
                  keyOf(o.key),
                  o.tokens,
                  Duration.toMillis(o.refillRate),
                  o.limit,
                  now,
                  o.allowOverflow ? 1 : 0
                ) as Promise<number>,
              local.tokenBucket(o)
            ))
      })
    })
  )
