/**
 * Stripe webhooks: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…][,v0=…]`, an
 * HMAC-SHA256 of `t.body` keyed with the UTF-8 bytes of the `whsec_…` endpoint
 * secret. Any matching `v1` is accepted (Stripe sends one per active secret
 * during a rotation); `v0` (test-mode legacy) is ignored.
 *
 * Stripe has no delivery-id header: the receiver uses the event's `id` for replay protection.
 *
 * @since 0.1.0
 */
import { equalText, fail, hmac, hmacText, isHex, requiredHeader, timestamp, utf8Keys } from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The endpoint's signing secrets (`whsec_…`), used as-is. */
  readonly secrets: Webhook.Secrets
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
}

// An HMAC-SHA256 signature: 32 bytes, 64 hex digits.
const signatureBytes = 32
const scheme = "stripe"
const header = "stripe-signature"

/**
 * Makes a verifier for Stripe deliveries. It agrees with stripe-node's
 * `constructEvent` wherever Stripe documents the behaviour: the header is split
 * at commas, `t` is the timestamp, every `v1` is a candidate signature and any
 * one that matches verifies the delivery (a `v1` that is not a signature at all,
 * such as `v1=potato`, does not spoil a valid one beside it), and every other
 * element is discarded. Where it is stricter on purpose (two timestamps, a
 * timestamp that is not an integer, one from the future), the package README
 * lists the case.
 *
 * @since 0.1.0
 * @category verification
 * @example
 * import { Stripe } from "@apikit/webhooks"
 * import { Redacted } from "effect"
 *
 * const verifier = Stripe.verifier({ secrets: Redacted.make("whsec_…") })
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  const tolerance = options.tolerance ?? Webhook.defaultTolerance
  // Only for the reason of a refusal: a signature that matches is lower-case hex.
  const malformed = (signatures: ReadonlyArray<string>): boolean => {
    for (const sig of signatures) if (!isHex(sig, signatureBytes)) return true
    return false
  }
  return Webhook.make(scheme, Webhook.windowFor(tolerance), (request, now) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    let rawTs: string | undefined
    const signatures: Array<string> = []
    // Walks the comma-separated elements in place (no split): `t=` and `v1=` are read, every
    // other element (`v0=`, an unknown key, even one without `=`) is discarded, as Stripe documents.
    let start = 0
    for (;;) {
      const comma = value.indexOf(",", start)
      const end = comma === -1 ? value.length : comma
      if (value.startsWith("t=", start)) {
        // stripe-node keeps the last one; which one was signed is ambiguous, so apikit refuses.
        if (rawTs !== undefined) return fail(scheme, "MalformedHeader", header, "more than one timestamp")
        rawTs = value.slice(start + 2, end)
      } else if (value.startsWith("v1=", start)) {
        signatures.push(value.slice(start + 3, end))
      }
      if (comma === -1) break
      start = comma + 1
    }
    if (rawTs === undefined) return fail(scheme, "MalformedHeader", header, "no t= timestamp")
    if (signatures.length === 0) return fail(scheme, "MalformedHeader", header, "no v1= signature")
    const ts = timestamp(scheme, header, rawTs, tolerance, now)
    if (typeof ts !== "number") return ts
    const prefix = `${rawTs}.`
    let ok = false
    for (const key of keys) {
      const expected = hmacText("sha256", key, "hex", prefix, request.body)
      // No early exit: every candidate is compared, so timing does not tell which secret matched.
      for (const sig of signatures) ok = equalText(expected, sig, 0) || ok
    }
    if (ok) return { scheme, id: undefined, timestamp: ts }
    return malformed(signatures)
      ? fail(scheme, "MalformedHeader", header, "no v1 matched, and some v1 is not 64 lower-case hex digits")
      : fail(scheme, "NoMatchingSignature", header)
  })
}

/**
 * Signs a payload the way Stripe does (one `v1` per secret), e.g. for tests.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secrets: Webhook.Secrets,
  options: { readonly timestamp: number; readonly body: Uint8Array | string }
): Record<string, string> => {
  const body = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body
  const v1 = utf8Keys(secrets).map((key) => `,v1=${hmac("sha256", key, `${options.timestamp}.`, body).toString("hex")}`)
  return { [header]: `t=${options.timestamp}${v1.join("")}` }
}
