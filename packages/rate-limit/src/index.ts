/**
 * @apikit/rate-limit: keyed client-side rate limiting on @effect/experimental
 * RateLimiter, adaptive to server headers, with a bulkhead.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as PauseStore from "./PauseStore.js"

/** @since 0.1.0 */
export * as RateLimit from "./RateLimit.js"
