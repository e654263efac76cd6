/**
 * @apikit/rate-limit: keyed client-side rate limiting on @effect/experimental
 * RateLimiter, adaptive to the server's quota, with a bulkhead.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as QuotaStore from "./QuotaStore.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RateLimit from "./RateLimit.js"
