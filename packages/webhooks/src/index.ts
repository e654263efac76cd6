/**
 * @apikit/webhooks: verify, receive and send webhooks.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as StandardWebhooks from "./StandardWebhooks.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Stripe from "./Stripe.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as GitHub from "./GitHub.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Slack from "./Slack.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Shopify from "./Shopify.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Twilio from "./Twilio.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as GenericHmac from "./GenericHmac.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as ReplayGuard from "./ReplayGuard.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Receiver from "./Receiver.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Sender from "./Sender.js"
