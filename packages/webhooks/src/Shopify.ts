/**
 * Shopify webhooks: `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw
 * body keyed with the app's client secret. The delivery id is
 * `X-Shopify-Webhook-Id`; the topic is `X-Shopify-Topic`. No timestamp is
 * signed, so replays are caught by delivery id only.
 *
 * @since 0.1.0
 */
import { equalText, fail, hmac, hmacText, isBase64, optionalHeader, requiredHeader, utf8Keys } from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** How long delivery ids are remembered, in seconds. Default 24 hours. */
  readonly replayWindow?: number
}

const scheme = "shopify"
const header = "x-shopify-hmac-sha256"

/**
 * Makes a verifier for Shopify deliveries.
 *
 * @since 0.1.0
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const malformed = () => fail(scheme, "MalformedHeader", header, "expected 44 characters of canonical base64")
  return Webhook.make(scheme, options.replayWindow ?? Webhook.defaultReplayWindow, (request) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    // The length here; the base64 check only when no signature matches (a match is canonical base64).
    if (value.length !== 44) return malformed()
    const id = optionalHeader(scheme, request.headers, "x-shopify-webhook-id")
    if (id instanceof Webhook.WebhookError) return isBase64(value, 32) ? id : malformed()
    let ok = false
    for (const key of keys) ok = equalText(hmacText("sha256", key, "base64", "", request.body), value, 0) || ok
    return ok
      ? { scheme, id, timestamp: undefined }
      : isBase64(value, 32)
      ? fail(scheme, "NoMatchingSignature", header)
      : malformed()
  })
}

/**
 * The topic of a Shopify delivery (`X-Shopify-Topic`), for the receiver's `eventType` option.
 *
 * @since 0.1.0
 */
export const eventType = (_json: unknown, headers: Webhook.HeadersInput): string | undefined => {
  const value = optionalHeader(scheme, headers, "x-shopify-topic")
  return typeof value === "string" ? value : undefined
}

/**
 * Signs a body the way Shopify does (with the first secret).
 *
 * @since 0.1.0
 */
export const sign = (secrets: Webhook.Secrets, body: Uint8Array | string): Record<string, string> => {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const [key] = utf8Keys(secrets)
  return key === undefined ? {} : { [header]: hmac("sha256", key, "", bytes).toString("base64") }
}
