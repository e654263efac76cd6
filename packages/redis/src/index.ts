/**
 * @apikit/redis: Redis implementations of every apikit store, for apps that
 * run on several instances and share one quota, one view of a provider's
 * health, one OAuth token and one stream of webhook deliveries.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Redis from "./Redis.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisCacheStore from "./RedisCacheStore.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisCircuitBreakerStore from "./RedisCircuitBreakerStore.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisQuotaStore from "./RedisQuotaStore.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisRateLimiterStore from "./RedisRateLimiterStore.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisReplayGuard from "./RedisReplayGuard.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisStores from "./RedisStores.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RedisTokenStore from "./RedisTokenStore.js"
