/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw
 * body keyed with the app's client secret. The delivery id is
 * `X-Shopify-Webhook-Id`; the topic is `X-Shopify-Topic`. No timestamp is
 * signed, so replays are caught by delivery id only.
 *
 * @since 0.1.0
 */
import * as HmacScheme from "./internal/hmacScheme.js"
import type * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** How long delivery ids are remembered, in seconds. Default 24 hours. */
  readonly replayWindow?: number
}

const signing: HmacScheme.Signing = {
  scheme: "shopify",
  header: "x-shopify-hmac-sha256",
  algorithm: "sha256",
  encoding: "base64",
  template: "{body}"
}

/**
 * Makes a verifier for Shopify deliveries.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Webhook.Verifier =>
  HmacScheme.verifier({
    ...signing,
    secrets: options.secrets,
    idHeader: "x-shopify-webhook-id",
    replayWindow: options.replayWindow
  })

/**
 * The topic of a Shopify delivery (`X-Shopify-Topic`), for the receiver's `eventType` option.
 *
 * @since 0.1.0
 * @category accessors
 */
export const eventType: (json: unknown, headers: Webhook.HeadersInput) => string | undefined = HmacScheme.headerValue(
  signing.scheme,
  "x-shopify-topic"
)

/**
 * Signs a body the way Shopify does (with the first secret).
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (secrets: Webhook.Secrets, body: Uint8Array | string): Record<string, string> =>
  HmacScheme.sign(signing, secrets, body)
