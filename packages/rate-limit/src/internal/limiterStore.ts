/**
 * A memory `RateLimiterStore` for `@effect/experimental`'s RateLimiter with
 * the arithmetic of its own `layerStoreMemory` (the limiter depends on it),
 * except that keys are forgotten once their window has passed (fixed window)
 * or their bucket is full again (token bucket): its own store keeps every key
 * it ever saw.
 *
 * The store also answers synchronously, behind a private symbol
 * ({@link syncOf}): `RateLimit`'s hot path then takes its decision as a plain
 * function call, with the arithmetic of the experimental limiter's `consume`
 * ({@link decide}), instead of an Effect per store call, a Duration per call
 * and a match. Any other store (Redis, a third party's) goes through
 * `RateLimiter.consume`.
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

/** The memory store's synchronous operations. @internal */
export interface SyncStore {
  /** Fixed window: adds `tokens` (unless `limit` is given and they do not fit); the count and the ttl. */
  readonly fixedWindow: (
    key: string,
    now: number,
    tokens: number,
    refillMillis: number,
    limit: number | undefined
  ) => readonly [count: number, ttl: number]
  /** Token bucket: takes `tokens` (below zero only with `allowOverflow`); what is left. */
  readonly tokenBucket: (
    key: string,
    now: number,
    tokens: number,
    limit: number,
    refillMillis: number,
    allowOverflow: boolean
  ) => number
}

const syncPath = Symbol.for("@apikit/rate-limit/internal/limiterStore/sync")

/** The synchronous operations of apikit's memory store, when `store` is one. @internal */
export const syncOf = (store: object): SyncStore | undefined => (store as { readonly [syncPath]?: SyncStore })[syncPath]

/**
 * The time one token takes to come back, computed as the experimental limiter
 * does (a Duration division, to the nanosecond), so decisions match its own.
 *
 * @internal
 */
export const refillMillis = (window: Duration.Duration, limit: number): number =>
  Duration.toMillis(Duration.unsafeDivide(window, limit))

// As Duration.millis keeps a fractional millisecond: to the nanosecond.
const toNanosecond = (millis: number): number => Number.isInteger(millis) ? millis : Math.round(millis * 1e6) / 1e6

/**
 * One decision of the experimental limiter's `consume`, taken synchronously on
 * the memory store, in milliseconds. With `"delay"` the tokens are always
 * granted and the result is the wait before using them (0: now). With
 * `"fail"` they are taken only when available now: 0 granted, otherwise the
 * time until they would be (> 0) and nothing is taken.
 *
 * @internal
 */
export const decide = (
  store: SyncStore,
  key: string,
  now: number,
  tokens: number,
  limit: number,
  windowMillis: number,
  refillMillis: number,
  algorithm: "fixed-window" | "token-bucket",
  onExceeded: "delay" | "fail"
): number => {
  if (algorithm === "fixed-window") {
    if (onExceeded === "fail") {
      const [count, ttl] = store.fixedWindow(key, now, tokens, refillMillis, limit)
      return count > limit ? toNanosecond(ttl) : 0
    }
    const [count, ttl] = store.fixedWindow(key, now, tokens, refillMillis, undefined)
    const elapsed = count * refillMillis - ttl
    const remaining = Math.floor((count - 1) / limit) * windowMillis - elapsed
    return remaining <= 0 ? 0 : toNanosecond(remaining)
  }
  const remaining = store.tokenBucket(key, now, tokens, limit, refillMillis, onExceeded === "delay")
  return remaining < 0 ? toNanosecond(refillMillis * -remaining) : 0
}

export const layer: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.sync(RateLimiter.RateLimiterStore, () => {
  const counters = Keyed.make<Counter>((c, now) => c.expiresAt <= now)
  const buckets = Keyed.make<Bucket>((b, now) =>
    b.tokens + Math.floor((now - b.lastRefill) / b.refillMillis) >= b.limit
  )
  const sync: SyncStore = {
    fixedWindow: (key, now, tokens, refillMillis, limit) => {
      const counter = counters.get(key) ?? counters.insert(key, now, { count: 0, expiresAt: now })
      if (counter.expiresAt <= now) {
        counter.count = 0
        counter.expiresAt = now
      }
      if (limit !== undefined && counter.count + tokens > limit) {
        return [counter.count + tokens, counter.expiresAt - now] as const
      }
      counter.count += tokens
      counter.expiresAt += refillMillis * tokens
      return [counter.count, counter.expiresAt - now] as const
    },
    tokenBucket: (key, now, tokens, limit, refillMillis, allowOverflow) => {
      const bucket = buckets.get(key) ?? buckets.insert(key, now, {
        tokens: limit,
        lastRefill: now,
        limit,
        refillMillis
      })
      // A new bucket has nothing to add yet (no time has passed).
      const tokensToAdd = Math.floor((now - bucket.lastRefill) / refillMillis)
      if (tokensToAdd > 0) {
        bucket.tokens = Math.min(limit, bucket.tokens + tokensToAdd)
        bucket.lastRefill += tokensToAdd * refillMillis
      }
      const newTokenCount = bucket.tokens - tokens
      if (allowOverflow || newTokenCount >= 0) bucket.tokens = newTokenCount
      return newTokenCount
    }
  }
  const store = RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() =>
          sync.fixedWindow(
            options.key,
            clock.unsafeCurrentTimeMillis(),
            options.tokens,
            Duration.toMillis(options.refillRate),
            options.limit
          )
        )
      ),
    tokenBucket: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() =>
          sync.tokenBucket(
            options.key,
            clock.unsafeCurrentTimeMillis(),
            options.tokens,
            options.limit,
            Duration.toMillis(options.refillRate),
            options.allowOverflow
          )
        )
      )
  })
  return Object.assign(store, { [syncPath]: sync })
})
