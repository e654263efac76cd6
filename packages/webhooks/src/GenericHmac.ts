/**
 * A configurable HMAC scheme for providers without a module of their own: the
 * signature header, sha1/sha256/sha512, hex or base64, an optional prefix
 * (`sha256=`), the signed-content template (`{body}`, `{timestamp}.{body}`,
 * `{id}.{timestamp}.{body}`, ...) and optional timestamp and id headers.
 *
 * @since 0.1.0
 * @example
 * import { GenericHmac } from "@apikit/webhooks"
 * import { Redacted } from "effect"
 *
 * // Signature: `X-Signature: sha256=<hex of HMAC(secret, "<ts>.<body>")>`, timestamp in `X-Timestamp`.
 * const verifier = GenericHmac.verifier({
 *   secrets: Redacted.make("s3cr3t"),
 *   header: "x-signature",
 *   algorithm: "sha256",
 *   encoding: "hex",
 *   prefix: "sha256=",
 *   template: "{timestamp}.{body}",
 *   timestampHeader: "x-timestamp"
 * })
 */
import * as Either from "effect/Either"
import {
  type Algorithm,
  digestBytes,
  encodedLength,
  equalText,
  fail,
  hmacText,
  isBase64,
  isHex,
  optionalHeader,
  requiredHeader,
  timestamp,
  utf8Keys
} from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** The header carrying the signature (case-insensitive). */
  readonly header: string
  readonly algorithm: Algorithm
  readonly encoding: "hex" | "base64"
  /** A literal prefix before the encoded signature, e.g. `sha256=`. */
  readonly prefix?: string
  /** The signed content; `{id}`, `{timestamp}` and `{body}` are replaced. Default `{body}`. */
  readonly template?: string
  readonly timestampHeader?: string
  readonly idHeader?: string
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
  /** A name for errors and logs. Default `generic-hmac`. */
  readonly scheme?: string
}

/**
 * Makes a verifier for the configured scheme. The template must contain
 * `{body}` exactly once, and `{timestamp}` / `{id}` only when their headers are set.
 *
 * @since 0.1.0
 */
export const verifier = (options: Options): Either.Either<Webhook.Verifier, Webhook.WebhookConfigError> => {
  const scheme = options.scheme ?? "generic-hmac"
  const template = options.template ?? "{body}"
  const [before, after, ...extra] = template.split("{body}")
  const invalid = (detail: string) => Either.left(new Webhook.WebhookConfigError({ scheme, detail }))
  if (before === undefined || after === undefined || extra.length > 0) {
    return invalid("the template must contain {body} exactly once")
  }
  if (template.includes("{timestamp}") && options.timestampHeader === undefined) {
    return invalid("the template uses {timestamp} but no timestampHeader is set")
  }
  if (template.includes("{id}") && options.idHeader === undefined) {
    return invalid("the template uses {id} but no idHeader is set")
  }
  const header = options.header.toLowerCase()
  const tsHeader = options.timestampHeader?.toLowerCase()
  const idHeader = options.idHeader?.toLowerCase()
  const prefix = options.prefix ?? ""
  const bytes = digestBytes[options.algorithm]
  const keys = utf8Keys(options.secrets)
  const tolerance = options.tolerance ?? Webhook.defaultTolerance
  const window = tsHeader === undefined ? Webhook.defaultReplayWindow : Webhook.windowFor(tolerance)
  const expectedLength = prefix.length + encodedLength(options.encoding, bytes)
  const wellFormed = (value: string): boolean =>
    options.encoding === "hex" ? isHex(value.slice(prefix.length), bytes) : isBase64(value.slice(prefix.length), bytes)
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const malformed = () =>
    fail(scheme, "MalformedHeader", header, `expected ${prefix}${options.encoding} of ${bytes} bytes`)
  const fill = (part: string, rawTs: string, id: string | undefined) =>
    part.replaceAll("{timestamp}", rawTs).replaceAll("{id}", id ?? "")
  const fillBefore = before.includes("{timestamp}") || before.includes("{id}")
  const fillAfter = after.includes("{timestamp}") || after.includes("{id}")
  return Either.right(Webhook.make(scheme, window, (request, now) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    // Length and prefix here; the encoding check only when no signature matches (a match is canonical).
    if (value.length !== expectedLength || !value.startsWith(prefix)) return malformed()
    let rawTs = ""
    let ts: number | undefined
    if (tsHeader !== undefined) {
      const raw = requiredHeader(scheme, request.headers, tsHeader)
      if (raw instanceof Webhook.WebhookError) return wellFormed(value) ? raw : malformed()
      const checked = timestamp(scheme, tsHeader, raw, tolerance, now)
      if (typeof checked !== "number") return wellFormed(value) ? checked : malformed()
      rawTs = raw
      ts = checked
    }
    let id: string | undefined
    if (idHeader !== undefined) {
      const raw = template.includes("{id}")
        ? requiredHeader(scheme, request.headers, idHeader)
        : optionalHeader(scheme, request.headers, idHeader)
      if (raw instanceof Webhook.WebhookError) return wellFormed(value) ? raw : malformed()
      id = raw
    }
    const head = fillBefore ? fill(before, rawTs, id) : before
    const tail = fillAfter ? fill(after, rawTs, id) : after
    let ok = false
    for (const key of keys) {
      ok =
        equalText(hmacText(options.algorithm, key, options.encoding, head, request.body, tail), value, prefix.length) ||
        ok
    }
    return ok
      ? { scheme, id, timestamp: ts }
      : wellFormed(value)
      ? fail(scheme, "NoMatchingSignature", header)
      : malformed()
  }))
}
