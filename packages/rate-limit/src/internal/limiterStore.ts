/**
 * A memory `RateLimiterStore` for `@effect/experimental`'s RateLimiter with
 * the arithmetic of its own `layerStoreMemory` (the limiter depends on it),
 * except that keys are forgotten once their window has passed (fixed window)
 * or their bucket is full again (token bucket): its own store keeps every key
 * it ever saw.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Keyed from "./keyed.js"

interface Counter {
  count: number
  expiresAt: number
}

interface Bucket {
  tokens: number
  lastRefill: number
  readonly limit: number
  readonly refillMillis: number
}

export const layer: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.sync(RateLimiter.RateLimiterStore, () => {
  const counters = Keyed.make<Counter>((c, now) => c.expiresAt <= now)
  const buckets = Keyed.make<Bucket>((b, now) =>
    b.tokens + Math.floor((now - b.lastRefill) / b.refillMillis) >= b.limit
  )
  return RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const refillRateMillis = Duration.toMillis(options.refillRate)
          const now = clock.unsafeCurrentTimeMillis()
          const counter = counters.get(options.key) ?? counters.insert(options.key, now, { count: 0, expiresAt: now })
          if (counter.expiresAt <= now) {
            counter.count = 0
            counter.expiresAt = now
          }
          if (options.limit && counter.count + options.tokens > options.limit) {
            return [counter.count + options.tokens, counter.expiresAt - now] as const
          }
          counter.count += options.tokens
          counter.expiresAt += refillRateMillis * options.tokens
          return [counter.count, counter.expiresAt - now] as const
        })
      ),
    tokenBucket: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const refillRateMillis = Duration.toMillis(options.refillRate)
          const now = clock.unsafeCurrentTimeMillis()
          const bucket = buckets.get(options.key) ?? buckets.insert(options.key, now, {
            tokens: options.limit,
            lastRefill: now,
            limit: options.limit,
            refillMillis: refillRateMillis
          })
          // A new bucket has nothing to add yet (no time has passed).
          const tokensToAdd = Math.floor((now - bucket.lastRefill) / refillRateMillis)
          if (tokensToAdd > 0) {
            bucket.tokens = Math.min(options.limit, bucket.tokens + tokensToAdd)
            bucket.lastRefill += tokensToAdd * refillRateMillis
          }
          const newTokenCount = bucket.tokens - options.tokens
          if (options.allowOverflow || newTokenCount >= 0) bucket.tokens = newTokenCount
          return newTokenCount
        })
      )
  })
})
