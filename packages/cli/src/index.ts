/**
 * @apikit/cli: the `apikit` command.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Cli from "./Cli.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Stdin from "./Stdin.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as WebhooksCommand from "./WebhooksCommand.js"
