/**
 * @apikit/circuit-breaker: a keyed circuit breaker for apikit (consecutive,
 * failure-rate and slow-call trips, gated half-open probes, events and metrics).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as CircuitBreaker from "./CircuitBreaker.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as CircuitBreakerStore from "./CircuitBreakerStore.js"
