/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the
 * raw body keyed with the webhook secret. The delivery id is
 * `X-GitHub-Delivery`; the event type is `X-GitHub-Event`. GitHub signs no
 * timestamp, so replays are caught by delivery id only.
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
  scheme: "github",
  header: "x-hub-signature-256",
  algorithm: "sha256",
  encoding: "hex",
  prefix: "sha256=",
  template: "{body}"
}

/**
 * Makes a verifier for GitHub deliveries.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Webhook.Verifier =>
  HmacScheme.verifier({
    ...signing,
    secrets: options.secrets,
    idHeader: "x-github-delivery",
    replayWindow: options.replayWindow
  })

/**
 * The event type of a GitHub delivery (`X-GitHub-Event`), for the receiver's `eventType` option.
 *
 * @since 0.1.0
 * @category accessors
 */
export const eventType: (json: unknown, headers: Webhook.HeadersInput) => string | undefined = HmacScheme.headerValue(
  signing.scheme,
  "x-github-event"
)

/**
 * Signs a body the way GitHub does (with the first secret).
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (secrets: Webhook.Secrets, body: Uint8Array | string): Record<string, string> =>
  HmacScheme.sign(signing, secrets, body)
