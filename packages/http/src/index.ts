/**
 * @apikit/http: the typed, resilient HTTP API client core.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as ApiClient from "./ApiClient.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as ApiError from "./ApiError.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Policy from "./Policy.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RateLimitHeaders from "./RateLimitHeaders.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Redaction from "./Redaction.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as RetryAfter from "./RetryAfter.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Paginate from "./Paginate.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Endpoints from "./Endpoints.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as GraphQL from "./GraphQL.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as GraphQLCost from "./GraphQLCost.js"
