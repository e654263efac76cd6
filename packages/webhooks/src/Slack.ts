/**
 * Slack request signing: `X-Slack-Signature: v0=<hex>`, an HMAC-SHA256 of
 * `v0:<timestamp>:<body>` keyed with the app's signing secret, and
 * `X-Slack-Request-Timestamp` checked against the tolerance (Slack suggests five minutes).
 *
 * @since 0.1.0
 */
import { equalText, fail, hmacText, isHex, requiredHeader, timestamp, utf8Keys } from "./internal/core.js"
import * as HmacScheme from "./internal/hmacScheme.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
}

const scheme = "slack"
const header = "x-slack-signature"
const tsHeader = "x-slack-request-timestamp"
// What Slack signs, for `sign`; the verifier below checks the same by hand (the timestamp first).
const signing: HmacScheme.Signing = {
  scheme,
  header,
  algorithm: "sha256",
  encoding: "hex",
  prefix: "v0=",
  template: "v0:{timestamp}:{body}",
  timestampHeader: tsHeader
}

/**
 * Makes a verifier for Slack requests.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  const tolerance = options.tolerance ?? Webhook.defaultTolerance
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const malformed = () => fail(scheme, "MalformedHeader", header, "expected v0= and 64 lower-case hex digits")
  return Webhook.make(scheme, Webhook.windowFor(tolerance), (request, now) => {
    const rawTs = requiredHeader(scheme, request.headers, tsHeader)
    if (rawTs instanceof Webhook.WebhookError) return rawTs
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    // Length and prefix here; the hex check only when no signature matches (a match is lower-case hex).
    if (value.length !== 67 || !value.startsWith("v0=")) return malformed()
    const ts = timestamp(scheme, tsHeader, rawTs, tolerance, now)
    if (typeof ts !== "number") return isHex(value.slice(3), 32) ? ts : malformed()
    let ok = false
    for (const key of keys) ok = equalText(hmacText("sha256", key, "hex", `v0:${rawTs}:`, request.body), value, 3) || ok
    return ok
      ? { scheme, id: undefined, timestamp: ts }
      : isHex(value.slice(3), 32)
      ? fail(scheme, "NoMatchingSignature", header)
      : malformed()
  })
}

/**
 * Signs a body the way Slack does (with the first secret).
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secrets: Webhook.Secrets,
  options: { readonly timestamp: number; readonly body: Uint8Array | string }
): Record<string, string> => HmacScheme.sign(signing, secrets, options.body, { timestamp: options.timestamp })

/**
 * The Events API's `url_verification` handshake: its `challenge`, for the
 * receiver's `challenge` option (Slack expects it echoed with a 200).
 *
 * @since 0.1.0
 * @category accessors
 */
export const urlVerification = (json: unknown): string | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const { challenge, type } = json as { readonly type?: unknown; readonly challenge?: unknown }
  return type === "url_verification" && typeof challenge === "string" ? challenge : undefined
}

/**
 * The event type of an Events API delivery (`event.type` inside an
 * `event_callback`, else the outer `type`), for the receiver's `eventType` option.
 *
 * @since 0.1.0
 * @category accessors
 */
export const eventType = (json: unknown): string | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const outer = json as { readonly type?: unknown; readonly event?: { readonly type?: unknown } }
  if (outer.type === "event_callback" && typeof outer.event?.type === "string") return outer.event.type
  return typeof outer.type === "string" ? outer.type : undefined
}
