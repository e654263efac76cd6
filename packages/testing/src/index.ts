/**
 * @apikit/testing: test layers for apikit integrations.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as MockHttp from "./MockHttp.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Capture from "./Capture.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Sandbox from "./Sandbox.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as MockGraphQL from "./MockGraphQL.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as LocalServer from "./LocalServer.js"
