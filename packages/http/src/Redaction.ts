/**
 * Masking of secrets before anything is logged, traced or put into an error.
 *
 * The rule of the house: secrets travel as `Redacted` until the wire, and what
 * comes back (URLs, bodies, error details) passes through here before it is
 * shown to anyone. Masking errs on the side of hiding too much.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"

/**
 * Header names that are redacted wherever `@effect/platform` prints headers
 * (logs, spans, `toJSON`), on top of the platform's own list.
 *
 * @since 0.1.0
 * @category constants
 */
export const headerNames: ReadonlyArray<string | RegExp> = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
  "x-auth-token",
  /(^|[-_])(api[-_]?key|access[-_]?key|token|secret|signature|password|session)([-_]|$)/i
]

const extended = new WeakMap<ReadonlyArray<string | RegExp>, ReadonlyArray<string | RegExp>>()

const extend = (current: ReadonlyArray<string | RegExp>): ReadonlyArray<string | RegExp> => {
  if (current.includes(headerNames[headerNames.length - 1]!)) return current
  let out = extended.get(current)
  if (out === undefined) {
    out = [...current, ...headerNames]
    extended.set(current, out)
  }
  return out
}

/**
 * Runs an effect with {@link headerNames} added to `Headers.currentRedactedNames`.
 * When they are already there (for example through {@link layer}), it runs the
 * effect as it is: one FiberRef read instead of a scoped update per call.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withHeaderRedaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(
    FiberRef.get(Headers.currentRedactedNames),
    (current) => extend(current) === current ? self : Effect.locallyWith(self, Headers.currentRedactedNames, extend)
  )

/**
 * Adds {@link headerNames} to `Headers.currentRedactedNames` for everything the
 * layer is provided to, once.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never> = Layer.scopedDiscard(
  Effect.locallyScopedWith(Headers.currentRedactedNames, extend)
)

/**
 * Whether a query parameter (or JSON field, or form field) name looks like it
 * holds a secret: key, token, secret, signature, password, credential, code, auth.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSecretName = (name: string): boolean =>
  /key|token|secret|signature|^sig$|passw|pwd|credential|^code$|^auth|assertion|session/i.test(name)

/**
 * The text that replaces a masked value.
 *
 * @since 0.1.0
 * @category constants
 */
export const mask = "<redacted>"

/**
 * A URL as it may be shown: user-info and fragment removed, secret-looking query
 * values replaced by {@link mask}.
 *
 * @since 0.1.0
 * @category masking
 */
export const url = (u: URL): string => {
  if (u.search === "") return `${u.origin}${u.pathname}`
  const parts: Array<string> = []
  for (const [k, v] of u.searchParams) {
    parts.push(`${encodeURIComponent(k)}=${isSecretName(k) ? mask : encodeURIComponent(v)}`)
  }
  return `${u.origin}${u.pathname}?${parts.join("&")}`
}

// `"access_token": "abc"`, `client_secret=abc`, `'password': 'x'` and the like.
const keyValue =
  /((["']?)[\w.-]*(?:key|token|secret|signature|passw|pwd|credential|assertion|session)[\w.-]*\2\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s&,;"'}\]]+)/gi
// A token68 credential. `Bearer realm="api"` is an auth-param list, not a credential:
// `name=` followed by a token or a quoted string is left alone.
const bearer = /\b(Bearer|Basic)\s+(?![\w.~+/-]+=(?:[\w.~+/-]|"[^",}]))[\w.~+/-]{6,}=*/gi
// GitHub's `Authorization: token ghp_…`. "token" is also an English word, so only
// a token-shaped value (long, with a digit or underscore) counts.
const tokenScheme = /\b(token)\s+(?=[\w.~+/-]*[\d_])[\w.~+/-]{16,}/gi
// JWTs and long opaque token-shaped strings are masked even without a telling key.
const jwt = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g

/**
 * Masks secret-looking values in free text (JSON, form bodies, error details):
 * values of secret-named keys, `Bearer …` credentials and JWTs.
 *
 * @since 0.1.0
 * @category masking
 */
export const text = (input: string): string =>
  input
    .replace(keyValue, (_m, prefix: string, _q, value: string) => {
      const quote = value.startsWith("\"") ? "\"" : value.startsWith("'") ? "'" : ""
      return `${prefix}${quote}${mask}${quote}`
    })
    .replace(bearer, (_m, scheme: string) => `${scheme} ${mask}`)
    .replace(tokenScheme, (_m, scheme: string) => `${scheme} ${mask}`)
    .replace(jwt, mask)

const decoder = new TextDecoder("utf-8", { fatal: false })

/**
 * A masked, bounded excerpt of a body for errors and logs: at most `maxChars`
 * characters (default 2048). Non-UTF-8 bytes become U+FFFD; masking runs on a
 * window larger than the excerpt so a secret straddling the cut is still masked.
 *
 * @since 0.1.0
 * @category masking
 */
export const excerpt = (body: Uint8Array | string, maxChars = 2048): string => {
  const window = maxChars * 4
  const raw = typeof body === "string"
    ? body.slice(0, window)
    : decoder.decode(body.length > window ? body.subarray(0, window) : body)
  const masked = text(raw)
  return masked.length > maxChars ? masked.slice(0, maxChars) + "…" : masked
}

const encoder = new TextEncoder()

/**
 * A stand-in for a secret that is safe to store and compare: the first 128
 * bits of SHA-256 over it (Web Crypto), hex. For high-entropy secrets (API
 * keys, tokens); it does not make a guessable password safe to publish.
 *
 * @since 0.1.0
 * @category masking
 */
export const fingerprint = (secret: string): Effect.Effect<string> =>
  Effect.map(
    Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", encoder.encode(`apikit:${secret}`))),
    (digest) => Array.from(new Uint8Array(digest, 0, 16), (b) => b.toString(16).padStart(2, "0")).join("")
  )
