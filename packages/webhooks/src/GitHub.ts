/**
 * GitHub webhooks: `X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the
 * raw body keyed with the webhook secret. The delivery id is
 * `X-GitHub-Delivery`; the event type is `X-GitHub-Event`. GitHub signs no
 * timestamp, so replays are caught by delivery id only.
 *
 * @since 0.1.0
 */
import { equalText, fail, hmac, hmacText, isHex, optionalHeader, requiredHeader, utf8Keys } from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** How long delivery ids are remembered, in seconds. Default 24 hours. */
  readonly replayWindow?: number
}

const scheme = "github"
const header = "x-hub-signature-256"

/**
 * Makes a verifier for GitHub deliveries.
 *
 * @since 0.1.0
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const malformed = () => fail(scheme, "MalformedHeader", header, "expected sha256= and 64 lower-case hex digits")
  return Webhook.make(scheme, options.replayWindow ?? Webhook.defaultReplayWindow, (request) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    // Length and prefix here; the hex check only when no signature matches (a match is lower-case hex).
    if (value.length !== 71 || !value.startsWith("sha256=")) return malformed()
    const id = optionalHeader(scheme, request.headers, "x-github-delivery")
    if (id instanceof Webhook.WebhookError) return isHex(value.slice(7), 32) ? id : malformed()
    let ok = false
    for (const key of keys) ok = equalText(hmacText("sha256", key, "hex", "", request.body), value, 7) || ok
    return ok
      ? { scheme, id, timestamp: undefined }
      : isHex(value.slice(7), 32)
      ? fail(scheme, "NoMatchingSignature", header)
      : malformed()
  })
}

/**
 * The event type of a GitHub delivery (`X-GitHub-Event`), for the receiver's `eventType` option.
 *
 * @since 0.1.0
 */
export const eventType = (_json: unknown, headers: Webhook.HeadersInput): string | undefined => {
  const value = optionalHeader(scheme, headers, "x-github-event")
  return typeof value === "string" ? value : undefined
}

/**
 * Signs a body the way GitHub does (with the first secret).
 *
 * @since 0.1.0
 */
export const sign = (secrets: Webhook.Secrets, body: Uint8Array | string): Record<string, string> => {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const [key] = utf8Keys(secrets)
  return key === undefined ? {} : { [header]: `sha256=${hmac("sha256", key, "", bytes).toString("hex")}` }
}
