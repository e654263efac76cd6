/**
 * Twilio webhooks: `X-Twilio-Signature`, the base64 HMAC-SHA1 (keyed with the
 * auth token) of the full URL followed by every form parameter as
 * `name + value`, sorted by name. For JSON bodies Twilio adds a `bodySHA256`
 * query parameter instead: the URL alone is signed, and the body must hash to it.
 *
 * Twilio signs the URL it was configured with, so pass the public URL (a proxy
 * in front of the app changes scheme, host or port). Like Twilio's own
 * library, the URL is tried with and without the default port.
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import {
  equal,
  equalText,
  fail,
  hmac,
  hmacText,
  isBase64,
  optionalHeader,
  requiredHeader,
  utf8Keys
} from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Auth tokens (primary and secondary during a rotation). */
  readonly secrets: Webhook.Secrets
  /** The public URL Twilio was configured with; overrides the request's URL. */
  readonly url?: string
  /** How long idempotency tokens are remembered, in seconds. Default 24 hours. */
  readonly replayWindow?: number
}

const scheme = "twilio"
const header = "x-twilio-signature"
const empty = new Uint8Array(0)

const authority = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i

// Twilio may sign "https://host/path" or "https://host:443/path"; we cannot know which.
const portVariants = (url: string): readonly [string, string] => {
  const m = authority.exec(url)
  if (m === null) return [url, url]
  const [whole, schemePart, auth] = m as unknown as [string, string, string]
  const at = auth.lastIndexOf("@")
  const hostPort = auth.slice(at + 1)
  const colon = hostPort.indexOf(":", hostPort.lastIndexOf("]") + 1)
  const host = colon === -1 ? hostPort : hostPort.slice(0, colon)
  const rest = url.slice(whole.length)
  const base = schemePart + auth.slice(0, at + 1) + host
  const port = schemePart.toLowerCase() === "https://" ? ":443" : ":80"
  return colon === -1 ? [url, base + port + rest] : [url, base + rest]
}

/** Twilio's grouping: repeated names keep their distinct values, sorted. */
const grouped = (params: URLSearchParams): string => {
  const byName = new Map<string, string | Set<string>>()
  for (const [k, v] of params) {
    const previous = byName.get(k)
    if (previous === undefined) byName.set(k, v)
    else if (typeof previous === "string") byName.set(k, new Set([previous, v]))
    else previous.add(v)
  }
  let out = ""
  for (const k of [...byName.keys()].sort()) {
    const values = byName.get(k)!
    if (typeof values === "string") out += k + values
    else for (const v of [...values].sort()) out += k + v
  }
  return out
}

/** `name + value` for every form parameter, names sorted, repeated values de-duplicated and sorted. */
const paramString = (body: Uint8Array): string => {
  // A view of the body's bytes, not a copy.
  const params = new URLSearchParams(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"))
  // URLSearchParams sorts names by UTF-16 code units, as Array#sort does; with no
  // repeated name (the usual form) the sorted pairs are the signed string as they are.
  params.sort()
  let out = ""
  let previous: string | undefined
  for (const [k, v] of params) {
    if (k === previous) return grouped(params)
    previous = k
    out += k + v
  }
  return out
}

const bodyHash = (url: string): string | undefined => {
  // Parsing a URL costs more than the HMAC of a small form; most URLs have no bodySHA256.
  if (!url.includes("bodySHA256=") || !URL.canParse(url)) return undefined
  return new URL(url).searchParams.get("bodySHA256") ?? undefined
}

/**
 * Makes a verifier for Twilio requests.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Webhook.Verifier => {
  const keys = utf8Keys(options.secrets)
  // A new error per refusal: errors are not shared between requests (Effect may annotate them with a span).
  const malformed = () => fail(scheme, "MalformedHeader", header, "expected 28 characters of canonical base64")
  return Webhook.make(scheme, options.replayWindow ?? Webhook.defaultReplayWindow, (request) => {
    const value = requiredHeader(scheme, request.headers, header)
    if (value instanceof Webhook.WebhookError) return value
    // The length here; the base64 check only when no signature matches (a match is canonical base64).
    if (value.length !== 28) return malformed()
    const url = options.url ?? request.url
    if (url === undefined) {
      return isBase64(value, 20)
        ? fail(scheme, "MissingHeader", "host", "Twilio signs the full URL; pass the request URL")
        : malformed()
    }
    const id = optionalHeader(scheme, request.headers, "i-twilio-idempotency-token")
    if (id instanceof Webhook.WebhookError) return isBase64(value, 20) ? id : malformed()
    const hash = bodyHash(url)
    let params = ""
    if (hash !== undefined) {
      const actual = createHash("sha256").update(request.body).digest("hex")
      if (!equal(Buffer.from(actual), Buffer.from(hash))) {
        return isBase64(value, 20) ? fail(scheme, "NoMatchingSignature", header) : malformed()
      }
    } else {
      params = paramString(request.body)
    }
    let ok = false
    for (const key of keys) ok = equalText(hmacText("sha1", key, "base64", url, empty, params), value, 0) || ok
    if (!ok) {
      if (!isBase64(value, 20)) return malformed()
      // Only then the other port form: which form matched is no secret, and most requests match the first.
      const [, other] = portVariants(url)
      for (const key of keys) ok = equalText(hmacText("sha1", key, "base64", other!, empty, params), value, 0) || ok
    }
    return ok ? { scheme, id, timestamp: undefined } : fail(scheme, "NoMatchingSignature", header)
  })
}

/**
 * Signs a request the way Twilio does (with the first secret): form bodies are
 * signed as parameters; with `bodySHA256` in the URL only the URL is signed.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secrets: Webhook.Secrets,
  options: { readonly url: string; readonly body: Uint8Array | string }
): Record<string, string> => {
  const bytes = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body
  const [key] = utf8Keys(secrets)
  const params = bodyHash(options.url) === undefined ? paramString(bytes) : ""
  return key === undefined ? {} : { [header]: hmac("sha1", key, options.url, empty, params).toString("base64") }
}
