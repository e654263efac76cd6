/** What every OAuth 2.0 grant shares: the client's options checked, and how its token requests are named and bounded. */
import { AuthError } from "@apikit/http/ApiError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as OAuth2 from "../OAuth2.js"
import type * as TokenEndpoint from "./tokenEndpoint.js"

export const misconfigured = (key: string, description: string): AuthError =>
  new AuthError({ reason: "Misconfigured", key, description, transient: false })

/** The client's authentication at the token endpoint, or `Misconfigured` when the options cannot work. */
export const resolveClient = (
  key: string,
  options: OAuth2.ClientOptions
): Effect.Effect<TokenEndpoint.ClientAuth, AuthError> => {
  let url: URL | undefined
  try {
    url = new URL(options.tokenUrl)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    return Effect.fail(misconfigured(key, "the token URL is not an absolute http(s) URL"))
  }
  if (options.clientId.length === 0) return Effect.fail(misconfigured(key, "the client id is empty"))
  const method = options.clientAuth ??
    (options.clientSecret !== undefined ?
      "client_secret_basic" :
      options.privateKey !== undefined ?
      "private_key_jwt" :
      "none")
  const clientId = options.clientId
  switch (method) {
    case "client_secret_basic":
    case "client_secret_post":
      return options.clientSecret === undefined ?
        Effect.fail(misconfigured(key, `${method} needs a client secret`)) :
        Effect.succeed({ method, clientId, clientSecret: options.clientSecret })
    case "private_key_jwt":
      return options.privateKey === undefined ?
        Effect.fail(misconfigured(key, "private_key_jwt needs a private key")) :
        Effect.succeed({
          method,
          clientId,
          signingKey: options.privateKey,
          audience: options.assertionAudience ?? options.tokenUrl
        })
    case "none":
      return Effect.succeed({ method, clientId })
  }
}

/** The `scope` parameter: space-separated. */
export const scopeParam = (scope: string | ReadonlyArray<string> | undefined): string | undefined =>
  scope === undefined ? undefined : typeof scope === "string" ? scope : scope.join(" ")

/** A token cache key: `base`, then `#name=value` for every part that is given. */
export const cacheKey = (base: string, parts: Readonly<Record<string, string | undefined>>): string =>
  Object.entries(parts).reduce((key, [name, value]) => value === undefined ? key : `${key}#${name}=${value}`, base)

/** The bound on one token request (default 30 seconds). */
export const timeoutOf = (options: { readonly timeout?: Duration.DurationInput | undefined }): Duration.Duration =>
  Duration.decode(options.timeout ?? "30 seconds")
