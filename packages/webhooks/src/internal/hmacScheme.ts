import * as Webhook from "../Webhook.js"
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
} from "./core.js"

/**
 * An HMAC scheme: one signature header (an optional literal prefix, then hex or
 * base64 of the digest) over a template around the body. GenericHmac checks
 * its options and builds one; GitHub and Shopify are two fixed configurations.
 */
export interface Config {
  readonly scheme: string
  readonly secrets: Webhook.Secrets
  readonly header: string
  readonly algorithm: Algorithm
  readonly encoding: "hex" | "base64"
  readonly prefix?: string | undefined
  /** Contains `{body}` exactly once (checked by the caller). */
  readonly template: string
  readonly timestampHeader?: string | undefined
  readonly idHeader?: string | undefined
  readonly tolerance?: number | undefined
  /** Seconds delivery ids are remembered when there is no timestamp. Default 24 hours. */
  readonly replayWindow?: number | undefined
}

/** A verifier for a valid configuration (see {@link Config}). */
export const verifier = (options: Config): Webhook.Verifier => {
  const scheme = options.scheme
  const template = options.template
  const [before = "", after = ""] = template.split("{body}")
  const header = options.header.toLowerCase()
  const tsHeader = options.timestampHeader?.toLowerCase()
  const idHeader = options.idHeader?.toLowerCase()
  const prefix = options.prefix ?? ""
  const bytes = digestBytes[options.algorithm]
  const keys = utf8Keys(options.secrets)
  const tolerance = options.tolerance ?? Webhook.defaultTolerance
  const window = tsHeader === undefined
    ? options.replayWindow ?? Webhook.defaultReplayWindow
    : Webhook.windowFor(tolerance)
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
  return Webhook.make(scheme, window, (request, now) => {
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
  })
}
