/**
 * Cache keys that are safe for credentials. The resource is the integration
 * and the URL as logs show it (secret query values masked); the variant is
 * the credential's identity (the auth policy's, joined with a fingerprint of
 * any secret header or query value the call itself carries), the method and
 * the values of the headers a response varies on. No secret appears in a key.
 *
 * @internal
 */
import type * as Policy from "@apikit/http/Policy"
import * as Redaction from "@apikit/http/Redaction"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"

const isSecretHeader = (name: string): boolean => {
  for (const pattern of Redaction.headerNames) {
    if (typeof pattern === "string" ? pattern === name : pattern.test(name)) return true
  }
  return false
}

const secretHeaderCache = new Map<string, boolean>()
const secretHeader = (name: string): boolean => {
  let secret = secretHeaderCache.get(name)
  if (secret === undefined) {
    secret = isSecretHeader(name)
    if (secretHeaderCache.size < 1000) secretHeaderCache.set(name, secret)
  }
  return secret
}

/**
 * The request as the cache policy sees it: its non-secret headers only (they
 * may be stored for Vary), and what the call carries that is secret, as text
 * to fingerprint ("" when nothing).
 *
 * @internal
 */
export interface Split {
  readonly headers: Record<string, string>
  readonly secrets: string
}

/** @internal */
export const split = (request: HttpClientRequest.HttpClientRequest): Split => {
  const headers: Record<string, string> = {}
  let secrets = ""
  const source = request.headers
  for (const name in source) {
    const value = source[name]!
    if (secretHeader(name)) secrets += `h:${name}=${value}\n`
    else headers[name] = value
  }
  const url = request.url
  const q = url.indexOf("?")
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
      if (Redaction.isSecretName(k)) secrets += `q:${k}=${v}\n`
    }
  }
  for (const [k, v] of request.urlParams) {
    if (Redaction.isSecretName(k)) secrets += `q:${k}=${v}\n`
  }
  return { headers, secrets }
}

const anonymous = Effect.succeed("-")
const fingerprints = new Map<string, string>()

/**
 * Whose call this is: the auth policy's identity, and a fingerprint of the
 * call's own secrets when it carries any (memoized: at most 1,000 kept).
 *
 * @internal
 */
export const identity = (context: Policy.CallContext, secrets: string): Effect.Effect<string> => {
  const auth = context.identity ?? anonymous
  if (secrets === "") return auth
  return Effect.flatMap(auth, (id) => {
    const input = `${id}\n${secrets}`
    const known = fingerprints.get(input)
    if (known !== undefined) return Effect.succeed(known)
    return Effect.map(Redaction.fingerprint(input), (fp) => {
      if (fingerprints.size >= 1000) fingerprints.clear()
      fingerprints.set(input, fp)
      return fp
    })
  })
}

/** The resource of a call: its integration and masked URL. @internal */
export const resource = (client: string, maskedUrl: string): string => `${client} ${maskedUrl}`

/** The variant under which a response with `Vary: names` is stored. @internal */
export const varied = (variant: string, names: ReadonlyArray<string>, headers: Record<string, string>): string => {
  let out = variant
  for (const name of names) out += `\n${name}=${headers[name] ?? ""}`
  return out
}

/** What identical in-flight requests share: variant and every non-secret header. @internal */
export const flight = (resource: string, variant: string, headers: Record<string, string>): string => {
  let out = `${resource}\n${variant}`
  for (const name in headers) out += `\n${name}=${headers[name]}`
  return out
}
