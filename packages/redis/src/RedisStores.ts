/**
 * Every apikit store on one Redis connection, for apps that want them all.
 *
 * @since 0.1.0
 */
import type { TokenStore } from "@apikit/auth/TokenStore"
import type { CacheStore } from "@apikit/cache/CacheStore"
import type { CircuitBreakerStore } from "@apikit/circuit-breaker/CircuitBreakerStore"
import type { QuotaStore } from "@apikit/rate-limit/QuotaStore"
import type { ReplayGuard } from "@apikit/webhooks/ReplayGuard"
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as ConfigError from "effect/ConfigError"
import * as Layer from "effect/Layer"
import * as Redis from "./Redis.js"
import * as RedisCacheStore from "./RedisCacheStore.js"
import * as RedisCircuitBreakerStore from "./RedisCircuitBreakerStore.js"
import * as RedisQuotaStore from "./RedisQuotaStore.js"
import * as RedisRateLimiterStore from "./RedisRateLimiterStore.js"
import * as RedisReplayGuard from "./RedisReplayGuard.js"
import * as RedisTokenStore from "./RedisTokenStore.js"

/**
 * Each store's options (see each module for its fallback when Redis is unreachable).
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly rateLimiter?: RedisRateLimiterStore.Options | undefined
  readonly quotas?: RedisQuotaStore.Options | undefined
  readonly circuitBreaker?: RedisCircuitBreakerStore.Options | undefined
  readonly tokens?: RedisTokenStore.Options | undefined
  readonly replay?: RedisReplayGuard.Options | undefined
}

/**
 * What `@apikit/rate-limit` needs (limiter counters and the servers' quotas) in Redis.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRateLimit = (
  options: Pick<Options, "rateLimiter" | "quotas"> = {}
): Layer.Layer<RateLimiter.RateLimiterStore | QuotaStore, never, Redis.Redis> =>
  Layer.merge(RedisRateLimiterStore.layer(options.rateLimiter), RedisQuotaStore.layer(options.quotas))

/**
 * Every store over the {@link Redis.Redis} connection in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<
  RateLimiter.RateLimiterStore | QuotaStore | CircuitBreakerStore | TokenStore | ReplayGuard | CacheStore,
  never,
  Redis.Redis
> =>
  Layer.mergeAll(
    layerRateLimit(options),
    RedisCircuitBreakerStore.layer(options.circuitBreaker),
    RedisTokenStore.layer(options.tokens),
    RedisReplayGuard.layer(options.replay),
    RedisCacheStore.layer
  )

/**
 * Every store, connected with `REDIS_URL` (default `redis://127.0.0.1:6379`).
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { RedisStores } from "@apikit/redis"
 *
 * // provide to the layer that builds your ApiClients and webhook receiver
 * const stores = RedisStores.layerConfig()
 */
export const layerConfig = (
  options: Options & Omit<Redis.Options, "url"> = {}
): Layer.Layer<
  RateLimiter.RateLimiterStore | QuotaStore | CircuitBreakerStore | TokenStore | ReplayGuard | CacheStore,
  Redis.RedisError | ConfigError.ConfigError
> => Layer.provide(layer(options), Redis.layerConfig(options))
