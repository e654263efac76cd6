/**
 * @apikit/cache: an RFC 9111 HTTP cache stage for the ApiClient pipeline.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Cache from "./Cache.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as CacheStore from "./CacheStore.js"
