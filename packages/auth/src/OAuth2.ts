/**
 * OAuth 2.0 credentials for the ApiClient `auth` slot: client credentials,
 * the RFC 7523 JWT-bearer grant, and the authorization code flow with PKCE
 * and rotating refresh tokens.
 *
 * Tokens are cached per key in the {@link TokenStore.TokenStore} and renewed
 * ahead of expiry; concurrent callers share one token request per key; a 401
 * from the API renews the token and replays the request once. Token requests
 * go through the platform `HttpClient` in context, form-encoded.
 *
 * @since 0.1.0
 */
import { AuthError, ReauthorizationRequired } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import * as Redaction from "@apikit/http/Redaction"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Jose from "jose"
import * as Auth from "./Auth.js"
import * as SecureRandom from "./internal/secureRandom.js"
import * as TokenCache from "./internal/tokenCache.js"
import * as TokenEndpoint from "./internal/tokenEndpoint.js"
import * as Jwt from "./Jwt.js"
import * as Pkce from "./Pkce.js"
import { StoredToken, TokenStore } from "./TokenStore.js"

/**
 * How early a token is renewed before it expires: a duration, or a function of
 * the token's lifetime. The default is 60 seconds, or 10% of the lifetime when
 * that is larger, but a token is always used for at least 60 seconds (90% of
 * the lifetime for tokens shorter than about a minute). Any margin is capped at
 * half the lifetime, so a short-lived token is used before it is renewed.
 *
 * @since 0.1.0
 */
export type RefreshMargin = TokenCache.Margin

/**
 * How the client authenticates to the token endpoint.
 *
 * @since 0.1.0
 */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none"

/**
 * The client and its token endpoint.
 *
 * @since 0.1.0
 */
export interface ClientOptions {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /**
   * Default: `client_secret_basic` with a secret, `private_key_jwt` with a
   * private key, `none` (public client) with neither.
   */
  readonly clientAuth?: ClientAuthMethod | undefined
  /** The key that signs `private_key_jwt` assertions. */
  readonly privateKey?: Jwt.SigningKey | undefined
  /** The `aud` of `private_key_jwt` assertions (default: the token URL; some servers want their issuer). */
  readonly assertionAudience?: string | undefined
  /** Bound on one token request (default 30 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
  /** Renew this long before expiry, at most half the lifetime (default: see {@link RefreshMargin}). */
  readonly refreshMargin?: RefreshMargin | undefined
}

const misconfigured = (key: string, description: string) =>
  new AuthError({ reason: "Misconfigured", key, description, transient: false })

const resolveClient = (
  key: string,
  options: ClientOptions
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

const scopeParam = (scope: string | ReadonlyArray<string> | undefined) =>
  scope === undefined ? undefined : typeof scope === "string" ? scope : scope.join(" ")

const cacheKey = (base: string, parts: Readonly<Record<string, string | undefined>>) =>
  Object.entries(parts).reduce((key, [name, value]) => value === undefined ? key : `${key}#${name}=${value}`, base)

const timeoutOf = (options: ClientOptions) => Duration.decode(options.timeout ?? "30 seconds")

/**
 * Options of {@link clientCredentials}.
 *
 * @since 0.1.0
 */
export interface ClientCredentialsOptions extends ClientOptions {
  readonly scope?: string | ReadonlyArray<string> | undefined
  /** The `audience` parameter (Auth0, Okta and others). */
  readonly audience?: string | undefined
  /** RFC 8707 resource indicators. */
  readonly resource?: string | ReadonlyArray<string> | undefined
  readonly extraParams?: Readonly<Record<string, string>> | undefined
  /** The cache key (default: token URL, client id, and scope, audience and resource when given). */
  readonly key?: string | undefined
}

/**
 * The client-credentials grant (RFC 6749 §4.4) as an auth policy. Fails with
 * `AuthError{reason: "Misconfigured"}` when the options cannot work.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient } from "@apikit/http"
 * import { Auth, OAuth2 } from "@apikit/auth"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({
 *     baseUrl: "https://api.example.com",
 *     auth: yield* OAuth2.clientCredentials({
 *       tokenUrl: "https://auth.example.com/oauth/token",
 *       clientId: "my-client",
 *       clientSecret: yield* Auth.secret("OAUTH_CLIENT_SECRET"),
 *       scope: ["projects:read"]
 *     })
 *   })
 *   return yield* api.get("/v1/projects")
 * })
 */
export const clientCredentials = (
  options: ClientCredentialsOptions
): Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const scope = scopeParam(options.scope)
    // Tokens for another scope, audience or resource are other tokens: they must not share a cache entry.
    const resourceKey = options.resource === undefined ? undefined : [options.resource].flat().join(" ")
    const key = options.key ??
      cacheKey(`oauth2:${options.tokenUrl}#${options.clientId}`, {
        scope,
        audience: options.audience,
        resource: resourceKey
      })
    const clientAuth = yield* resolveClient(key, options)
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const resources = options.resource === undefined ?
      [] :
      typeof options.resource === "string" ?
      [options.resource] :
      options.resource
    const cache = TokenCache.make({
      key,
      store,
      margin: options.refreshMargin ?? TokenCache.defaultMargin,
      expireEntry: true,
      fetch: () =>
        TokenEndpoint.request({
          key,
          tokenUrl: options.tokenUrl,
          clientAuth,
          timeout: timeoutOf(options),
          retryable: true,
          params: {
            grant_type: "client_credentials",
            scope,
            audience: options.audience,
            ...options.extraParams,
            resource: resources
          }
        }).pipe(Effect.provide(context))
    })
    return Auth.fromCredential(`oauth2.clientCredentials(${options.clientId})`, TokenCache.credential(key, cache))
  })

/**
 * Options of {@link jwtBearer}.
 *
 * @since 0.1.0
 */
export interface JwtBearerOptions {
  readonly tokenUrl: string
  readonly signingKey: Jwt.SigningKey
  /** `iss`: who signs (a service account's email, a client id). */
  readonly issuer: string
  /** `sub`: the principal the token is for (default: the issuer). */
  readonly subject?: string | undefined
  /** `aud` (default: the token URL). */
  readonly audience?: string | undefined
  /** Sent as the `scope` parameter; Google wants it as a claim, so pass it in `claims` there. */
  readonly scope?: string | ReadonlyArray<string> | undefined
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  /** The assertion's lifetime (default 5 minutes; it only has to outlive the token request). */
  readonly assertionLifetime?: Duration.DurationInput | undefined
  readonly key?: string | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly refreshMargin?: RefreshMargin | undefined
}

/**
 * The JWT-bearer grant (RFC 7523 §2.1, service-account style): a signed
 * assertion is exchanged for an access token, cached and renewed like
 * client credentials.
 *
 * @since 0.1.0
 */
export const jwtBearer = (
  options: JwtBearerOptions
): Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const scope = scopeParam(options.scope)
    const key = options.key ??
      cacheKey(`oauth2-jwt-bearer:${options.tokenUrl}#${options.issuer}`, {
        subject: options.subject,
        audience: options.audience,
        scope
      })
    yield* resolveClient(key, { tokenUrl: options.tokenUrl, clientId: options.issuer })
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const lifetime = Duration.decode(options.assertionLifetime ?? "5 minutes")
    const cache = TokenCache.make({
      key,
      store,
      margin: options.refreshMargin ?? TokenCache.defaultMargin,
      expireEntry: true,
      fetch: () =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const iat = Math.floor(now / 1000)
          const assertion = yield* signAssertion(key, options, iat, lifetime)
          return yield* TokenEndpoint.request({
            key,
            tokenUrl: options.tokenUrl,
            clientAuth: undefined,
            timeout: Duration.decode(options.timeout ?? "30 seconds"),
            retryable: true,
            params: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion, scope }
          })
        }).pipe(Effect.provide(context))
    })
    return Auth.fromCredential(`oauth2.jwtBearer(${options.issuer})`, TokenCache.credential(key, cache))
  })

const signAssertion = (key: string, options: JwtBearerOptions, iat: number, lifetime: Duration.Duration) =>
  Effect.flatMap(Jwt.jti, (jti) =>
    Jwt.sign(key, options.signingKey, {
      ...options.claims,
      iss: options.issuer,
      sub: options.subject ?? options.issuer,
      aud: options.audience ?? options.tokenUrl,
      jti,
      iat,
      exp: iat + Math.floor(Duration.toSeconds(lifetime))
    }))

/**
 * What the app keeps (in the user's session) between sending the user to the
 * authorize URL and handling the callback. Serializable; the verifier is the
 * one secret in it.
 *
 * @since 0.1.0
 */
export class PendingAuthorization extends Schema.Class<PendingAuthorization>("@apikit/auth/PendingAuthorization")({
  state: Schema.String,
  codeVerifier: Schema.Redacted(Schema.String),
  nonce: Schema.optional(Schema.String),
  redirectUri: Schema.String
}) {}

/**
 * Options of {@link authorizationCode}.
 *
 * @since 0.1.0
 */
export interface AuthorizationCodeOptions extends ClientOptions {
  readonly authorizeUrl: string
  readonly redirectUri: string
  readonly scope?: string | ReadonlyArray<string> | undefined
  /** The authorization server's issuer; when set, a callback `iss` (RFC 9207) must match it. */
  readonly issuer?: string | undefined
  /** Reject callbacks without `iss` (for servers that advertise RFC 9207 support). */
  readonly requireIssuer?: boolean | undefined
  readonly extraAuthorizeParams?: Readonly<Record<string, string>> | undefined
}

/**
 * The callback's query: a URL, its query string, or its parameters.
 *
 * @since 0.1.0
 */
export type CallbackInput = URL | string | URLSearchParams | Readonly<Record<string, string | undefined>>

/**
 * An authorization-code client with PKCE: builds authorize URLs, handles
 * callbacks, and gives an auth policy per connection (one user's grant) that
 * refreshes with rotation.
 *
 * @since 0.1.0
 */
export interface AuthorizationCode {
  /** An authorize URL to send the user to, and what to keep until the callback. */
  readonly authorize: (options?: {
    readonly scope?: string | ReadonlyArray<string> | undefined
    /** Add an OpenID Connect `nonce` (checked against the ID token's claim on callback). */
    readonly nonce?: boolean | undefined
    readonly extraParams?: Readonly<Record<string, string>> | undefined
  }) => Effect.Effect<{ readonly url: string; readonly pending: PendingAuthorization }>
  /**
   * Checks the callback (error, `state`, `iss`), exchanges the code once (a
   * code exchange is never retried: servers revoke the grant on code
   * replay) and stores the tokens under `connection`.
   */
  readonly callback: (options: {
    readonly connection: string
    readonly pending: PendingAuthorization
    readonly response: CallbackInput
  }) => Effect.Effect<StoredToken, AuthError>
  /** The auth policy for one connection's API calls. */
  readonly policy: (connection: string) => Policy.AuthPolicy
  /** A valid access token for the connection, refreshed if needed. */
  readonly token: (connection: string) => Effect.Effect<StoredToken, AuthError | ReauthorizationRequired>
  /** Forgets the connection's tokens. */
  readonly disconnect: (connection: string) => Effect.Effect<void, AuthError>
}

const callbackParams = (input: CallbackInput): URLSearchParams => {
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

/**
 * The authorization code grant with S256 PKCE (RFC 6749 §4.1, RFC 7636),
 * `state`, optional `nonce`, RFC 9207 `iss` checks, and refresh tokens with
 * rotation: a new refresh token from the server replaces the stored one, and
 * the old one is kept only when the server sends none. Refreshes of one
 * connection are single-flight; `invalid_grant` on refresh forgets the tokens
 * and fails with `ReauthorizationRequired`.
 *
 * @since 0.1.0
 * @example
 * import { Auth, OAuth2 } from "@apikit/auth"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const connect = (callbackUrl: string, pending: OAuth2.PendingAuthorization) =>
 *   Effect.gen(function*() {
 *     const oauth = yield* OAuth2.authorizationCode({
 *       authorizeUrl: "https://auth.example.com/authorize",
 *       tokenUrl: "https://auth.example.com/token",
 *       clientId: "web-app",
 *       clientSecret: yield* Auth.secret("OAUTH_CLIENT_SECRET"),
 *       redirectUri: "https://app.example.com/callback"
 *     })
 *     // earlier: const { url, pending } = yield* oauth.authorize(); redirect the user to url
 *     yield* oauth.callback({ connection: "user-42", pending, response: callbackUrl })
 *     const api = yield* ApiClient.make({ baseUrl: "https://api.example.com", auth: oauth.policy("user-42") })
 *     return yield* api.get("/v1/me")
 *   })
 */
export const authorizationCode = (
  options: AuthorizationCodeOptions
): Effect.Effect<AuthorizationCode, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const name = `oauth2:${options.clientId}`
    const clientAuth = yield* resolveClient(name, options)
    if (!URL.canParse(options.authorizeUrl) || !URL.canParse(options.redirectUri)) {
      return yield* misconfigured(name, "the authorize URL and the redirect URI must be absolute URLs")
    }
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const timeout = timeoutOf(options)
    const margin = options.refreshMargin ?? TokenCache.defaultMargin
    const connectionKey = (connection: string) => `oauth2-connection:${options.clientId}:${connection}`

    const invalidCallback = (key: string, description: string, error?: string) =>
      new AuthError({
        reason: "InvalidCallback",
        key,
        description,
        ...(error === undefined ? {} : { error }),
        transient: false
      })

    const authorize: AuthorizationCode["authorize"] = (opts = {}) =>
      Effect.gen(function*() {
        const pkce = yield* Pkce.make
        const state = yield* SecureRandom.token(24)
        const nonce = opts.nonce === true ? yield* SecureRandom.token(24) : undefined
        const url = new URL(options.authorizeUrl)
        const scope = scopeParam(opts.scope ?? options.scope)
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
          pending: new PendingAuthorization({
            state,
            codeVerifier: pkce.verifier,
            redirectUri: options.redirectUri,
            ...(nonce === undefined ? {} : { nonce })
          })
        }
      })

    const callback: AuthorizationCode["callback"] = ({ connection, pending, response }) =>
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

    const refresh = (key: string) => (current: Option.Option<StoredToken>) => {
      if (Option.isNone(current)) {
        return Effect.fail(new ReauthorizationRequired({ key, description: "no tokens are stored for it" }))
      }
      const old = current.value
      if (old.refreshToken === undefined) {
        return Effect.fail(
          new ReauthorizationRequired({ key, description: "the access token expired and there is no refresh token" })
        )
      }
      return TokenEndpoint.request({
        key,
        tokenUrl: options.tokenUrl,
        clientAuth,
        timeout,
        retryable: true,
        params: { grant_type: "refresh_token", refresh_token: old.refreshToken }
      }).pipe(
        Effect.provide(context),
        // Rotation: a returned refresh token replaces the old one, which the server may already
        // have revoked; keeping the old one is right only when none came back.
        Effect.map((next) =>
          next.refreshToken !== undefined ? next : new StoredToken({ ...next, refreshToken: old.refreshToken })
        ),
        Effect.catchIf(
          (e) => e.error === "invalid_grant",
          (e) =>
            Effect.zipRight(
              Effect.ignore(store.delete(key)),
              Effect.fail(
                new ReauthorizationRequired({
                  key,
                  description: e.description ?? "the refresh token was rejected (invalid_grant)"
                })
              )
            )
        )
      )
    }

    // No map of caches per connection (one per end user would never shrink): a cache is a few
    // closures over the store, and refreshes are single-flight per store and key whoever makes them.
    const cacheOf = (connection: string) => {
      const key = connectionKey(connection)
      return TokenCache.make({ key, store, margin, expireEntry: false, fetch: refresh(key) })
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
    } satisfies AuthorizationCode
  })
