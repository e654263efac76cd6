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
 */
export interface Options {
  /** The endpoint's signing secrets (`whsec_…`), used as-is. */
  readonly secrets: Webhook.Secrets
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
}

const scheme = "stripe"
const header = "stripe-signature"
// Sticky: one item from `lastIndex`, and the comma after it unless it is the last.
const item = /[a-z0-9]+=[^,\n\r\u2028\u2029]+(?:,|$)/y

/**
 * Makes a verifier for Stripe deliveries.
 *
 * @since 0.1.0
 * @example
 * import { Stripe } from "@apikit/webhooks"
 * import { Redacted } from "effect"
 *
 * const verifier = Stripe.verifier({ secrets: Redacted.make("whsec_…") })
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  const tolerance = options.tolerance ?? Webhook.defaultTolerance
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const badV1 = () => fail(scheme, "MalformedHeader", header, "v1 must be 64 lower-case hex digits")
  // The hex check of each v1 is deferred until a refusal needs it or several v1 were sent: a
  // signature that matches is lower-case hex, so the strict check cannot change an acceptance.
  const malformed = (signatures: ReadonlyArray<string>): boolean => {
    for (const sig of signatures) if (!isHex(sig, 32)) return true
    return false
  }
  return Webhook.make(scheme, Webhook.windowFor(tolerance), (request, now) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    let rawTs: string | undefined
    const signatures: Array<string> = []
    // Walks the comma-separated items in place (no split, no match arrays): each
    // item is what `^[a-z0-9]+=.+$` accepts, where `.` is any but a line terminator.
    let start = 0
    for (;;) {
      item.lastIndex = start
      if (!item.test(value)) {
        return malformed(signatures)
          ? badV1()
          : fail(scheme, "MalformedHeader", header, "expected comma-separated key=value pairs")
      }
      const next = item.lastIndex
      const last = next === value.length && value.charCodeAt(next - 1) !== 44 // ","
      const end = last ? next : next - 1
      if (value.startsWith("t=", start)) {
        if (rawTs !== undefined) {
          return malformed(signatures) ? badV1() : fail(scheme, "MalformedHeader", header, "more than one timestamp")
        }
        rawTs = value.slice(start + 2, end)
      } else if (value.startsWith("v1=", start)) {
        if (end - start !== 67) return badV1()
        signatures.push(value.slice(start + 3, end))
      }
      if (last) break
      start = next
    }
    if (rawTs === undefined) {
      return malformed(signatures) ? badV1() : fail(scheme, "MalformedHeader", header, "no t= timestamp")
    }
    if (signatures.length === 0) return fail(scheme, "MalformedHeader", header, "no v1= signature")
    const ts = timestamp(scheme, header, rawTs, tolerance, now)
    if (typeof ts !== "number") return malformed(signatures) ? badV1() : ts
    const prefix = `${rawTs}.`
    let ok = false
    for (const key of keys) {
      const expected = hmacText("sha256", key, "hex", prefix, request.body)
      // No early exit: every candidate is compared, so timing does not tell which secret matched.
      for (const sig of signatures) ok = equalText(expected, sig, 0) || ok
    }
    if (ok && signatures.length === 1) return { scheme, id: undefined, timestamp: ts }
    if (malformed(signatures)) return badV1()
    return ok ? { scheme, id: undefined, timestamp: ts } : fail(scheme, "NoMatchingSignature", header)
  })
}

/**
 * Signs a payload the way Stripe does (one `v1` per secret), e.g. for tests.
 *
 * @since 0.1.0
 */
export const sign = (
  secrets: Webhook.Secrets,
  options: { readonly timestamp: number; readonly body: Uint8Array | string }
): Record<string, string> => {
  const body = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body
  const v1 = utf8Keys(secrets).map((key) => `,v1=${hmac("sha256", key, `${options.timestamp}.`, body).toString("hex")}`)
  return { [header]: `t=${options.timestamp}${v1.join("")}` }
}
