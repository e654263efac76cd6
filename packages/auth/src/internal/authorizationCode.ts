import { AuthError } from "@apikit/http/ApiError"
import * as Redaction from "@apikit/http/Redaction"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Jose from "jose"
import * as Auth from "../Auth.js"
import type * as OAuth2 from "../OAuth2.js"
import * as Pkce from "../Pkce.js"
import { TokenStore } from "../TokenStore.js"
import * as Client from "./oauth2Client.js"
import * as RefreshToken from "./refreshToken.js"
import * as SecureRandom from "./secureRandom.js"
import * as TokenCache from "./tokenCache.js"
import * as TokenEndpoint from "./tokenEndpoint.js"

/** The fields of an `OAuth2.PendingAuthorization`, made by `authorize`. */
export interface PendingFields {
  readonly state: string
  readonly codeVerifier: Redacted.Redacted<string>
  readonly redirectUri: string
  readonly nonce?: string
}

const callbackParams = (input: OAuth2.CallbackInput): URLSearchParams => {
  if (input instanceof URLSearchParams) return input
  if (input instanceof URL) return input.searchParams
  if (typeof input === "string") {
    const q = input.indexOf("?")
    return new URLSearchParams(q >= 0 ? input.slice(q + 1).split("#")[0] : input)
  }
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(input)) if (v !== undefined) params.set(k, v)
  return params
}

const invalidCallback = (key: string, description: string, error?: string) =>
  new AuthError({
    reason: "InvalidCallback",
    key,
    description,
    ...(error === undefined ? {} : { error }),
    transient: false
  })

/**
 * The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), documented
 * at `OAuth2.authorizationCode`; `makePending` makes the public
 * `PendingAuthorization` the app keeps between authorize and callback.
 */
export const make = (
  options: OAuth2.AuthorizationCodeOptions,
  makePending: (fields: PendingFields) => OAuth2.PendingAuthorization
): Effect.Effect<OAuth2.AuthorizationCode, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const name = `oauth2:${options.clientId}`
    const clientAuth = yield* Client.resolveClient(name, options)
    if (!URL.canParse(options.authorizeUrl) || !URL.canParse(options.redirectUri)) {
      return yield* Client.misconfigured(name, "the authorize URL and the redirect URI must be absolute URLs")
    }
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const timeout = Client.timeoutOf(options)
    const margin = options.refreshMargin ?? TokenCache.defaultMargin
    const connectionKey = (connection: string) => `oauth2-connection:${options.clientId}:${connection}`

    const authorize: OAuth2.AuthorizationCode["authorize"] = (opts = {}) =>
      Effect.gen(function*() {
        const pkce = yield* Pkce.make
        const state = yield* SecureRandom.token(24)
        const nonce = opts.nonce === true ? yield* SecureRandom.token(24) : undefined
        const url = new URL(options.authorizeUrl)
        const scope = Client.scopeParam(opts.scope ?? options.scope)
        url.searchParams.set("response_type", "code")
        url.searchParams.set("client_id", options.clientId)
        url.searchParams.set("redirect_uri", options.redirectUri)
        if (scope !== undefined) url.searchParams.set("scope", scope)
        url.searchParams.set("state", state)
        url.searchParams.set("code_challenge", pkce.challenge)
        url.searchParams.set("code_challenge_method", pkce.method)
        if (nonce !== undefined) url.searchParams.set("nonce", nonce)
        for (const [k, v] of Object.entries({ ...options.extraAuthorizeParams, ...opts.extraParams })) {
          url.searchParams.set(k, v)
        }
        return {
          url: url.toString(),
          pending: makePending({
            state,
            codeVerifier: pkce.verifier,
            redirectUri: options.redirectUri,
            ...(nonce === undefined ? {} : { nonce })
          })
        }
      })

    const callback: OAuth2.AuthorizationCode["callback"] = ({ connection, pending, response }) =>
      Effect.gen(function*() {
        const key = connectionKey(connection)
        const params = callbackParams(response)
        const error = params.get("error")
        if (error !== null) {
          const description = params.get("error_description")
          return yield* invalidCallback(
            key,
            `the authorization server returned an error${
              description === null ? "" : `: ${Redaction.excerpt(description, 300)}`
            }`,
            error
          )
        }
        if (params.get("state") !== pending.state) {
          return yield* invalidCallback(
            key,
            "the callback's state does not match the one sent; it may be forged, replayed or from another session"
          )
        }
        const iss = params.get("iss")
        if (options.issuer !== undefined && iss !== null && iss !== options.issuer) {
          return yield* invalidCallback(key, "the callback's iss is not the expected issuer (possible mix-up attack)")
        }
        if (options.requireIssuer === true && iss === null) {
          return yield* invalidCallback(key, "the callback has no iss parameter, which this client requires")
        }
        const code = params.get("code")
        if (code === null || code.length === 0) return yield* invalidCallback(key, "the callback has no code")
        const tokens = yield* TokenEndpoint.request({
          key,
          tokenUrl: options.tokenUrl,
          clientAuth,
          timeout,
          retryable: false,
          params: {
            grant_type: "authorization_code",
            code: Redacted.make(code),
            redirect_uri: pending.redirectUri,
            code_verifier: pending.codeVerifier
          }
        }).pipe(Effect.provide(context))
        if (pending.nonce !== undefined && tokens.idToken !== undefined) {
          let nonce: unknown
          try {
            nonce = Jose.decodeJwt(Redacted.value(tokens.idToken)).nonce
          } catch {
            nonce = undefined
          }
          if (nonce !== pending.nonce) {
            return yield* invalidCallback(key, "the ID token's nonce does not match the one sent")
          }
        }
        yield* Effect.mapError(store.set(key, tokens), TokenCache.storeError(key))
        return tokens
      })

    // No map of caches per connection (one per end user would never shrink): a cache is a few
    // closures over the store, and refreshes are single-flight per store and key whoever makes them.
    const cacheOf = (connection: string) => {
      const key = connectionKey(connection)
      return TokenCache.make({
        key,
        store,
        margin,
        expireEntry: false,
        fetch: RefreshToken.make({ key, tokenUrl: options.tokenUrl, clientAuth, timeout, store, context })
      })
    }

    return {
      authorize,
      callback,
      policy: (connection) =>
        Auth.fromCredential(
          `oauth2.authorizationCode(${options.clientId})`,
          TokenCache.credential(connection, cacheOf(connection))
        ),
      token: (connection) => cacheOf(connection).get,
      disconnect: (connection) =>
        Effect.mapError(store.delete(connectionKey(connection)), TokenCache.storeError(connectionKey(connection)))
    } satisfies OAuth2.AuthorizationCode
  })
