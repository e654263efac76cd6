/**
 * @apikit/retry: retry policies built on Effect Schedule, for the ApiClient
 * retry slot and for any Effect.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RetryBudget from "./RetryBudget.js"
