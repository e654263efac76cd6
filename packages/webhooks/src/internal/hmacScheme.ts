import * as Webhook from "../Webhook.js"
import {
  type Algorithm,
  digestBytes,
  encodedLength,
  equalText,
  fail,
  hmac,
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
 * its options and builds one; GitHub, Shopify and Slack are fixed configurations.
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

/** What a scheme signs and how its header carries it: a {@link Config} without the secrets and replay settings. */
export type Signing = Pick<
  Config,
  "scheme" | "header" | "algorithm" | "encoding" | "prefix" | "template" | "timestampHeader"
>

/**
 * Signs `body` as the scheme's verifier checks it, with the first secret: the
 * signature header (and the timestamp header, when the scheme has one and a
 * timestamp is given). No secret: no headers.
 */
export const sign = (
  signing: Signing,
  secrets: Webhook.Secrets,
  body: Uint8Array | string,
  fields: { readonly timestamp?: number | undefined; readonly id?: string | undefined } = {}
): Record<string, string> => {
  const [key] = utf8Keys(secrets)
  if (key === undefined) return {}
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body
  const ts = fields.timestamp === undefined ? "" : String(fields.timestamp)
  const fill = (part: string) => part.replaceAll("{timestamp}", ts).replaceAll("{id}", fields.id ?? "")
  const [before = "", after = ""] = signing.template.split("{body}")
  const digest = hmac(signing.algorithm, key, fill(before), bytes, fill(after)).toString(signing.encoding)
  return {
    ...(signing.timestampHeader === undefined || fields.timestamp === undefined
      ? {}
      : { [signing.timestampHeader]: ts }),
    [signing.header]: `${signing.prefix ?? ""}${digest}`
  }
}

/** An accessor for one header of a delivery (its event type, say), for the receiver's `eventType` option. */
export const headerValue =
  (scheme: string, name: string) => (_json: unknown, headers: Webhook.HeadersInput): string | undefined => {
    const value = optionalHeader(scheme, headers, name)
    return typeof value === "string" ? value : undefined
  }
