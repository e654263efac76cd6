/**
 * @apikit/openapi: from an OpenAPI document to a typed, tested apikit integration.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Document from "./Document.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Generate from "./Generate.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Mocks from "./Mocks.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Conformance from "./Conformance.js"
