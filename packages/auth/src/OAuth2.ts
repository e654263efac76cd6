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
import type { AuthError, ReauthorizationRequired } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as AuthorizationCodeGrant from "./internal/authorizationCode.js"
import * as ClientCredentials from "./internal/clientCredentials.js"
import * as JwtBearer from "./internal/jwtBearer.js"
import type * as TokenCache from "./internal/tokenCache.js"
import type * as Jwt from "./Jwt.js"
import type { StoredToken, TokenStore } from "./TokenStore.js"

/**
 * How early a token is renewed before it expires: a duration, or a function of
 * the token's lifetime. The default is 60 seconds, or 10% of the lifetime when
 * that is larger, but a token is always used for at least 60 seconds (90% of
 * the lifetime for tokens shorter than about a minute). Any margin is capped at
 * half the lifetime, so a short-lived token is used before it is renewed.
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshMargin = TokenCache.Margin

/**
 * How the client authenticates to the token endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientAuthMethod = "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none"

/**
 * The client and its token endpoint.
 *
 * @since 0.1.0
 * @category options
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

/**
 * Options of {@link clientCredentials}.
 *
 * @since 0.1.0
 * @category options
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
 * @category constructors
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
export const clientCredentials: (
  options: ClientCredentialsOptions
) => Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> = ClientCredentials.make

/**
 * Options of {@link jwtBearer}.
 *
 * @since 0.1.0
 * @category options
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
 * @category constructors
 */
export const jwtBearer: (
  options: JwtBearerOptions
) => Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> = JwtBearer.make

/**
 * What the app keeps (in the user's session) between sending the user to the
 * authorize URL and handling the callback. Serializable; the verifier is the
 * one secret in it.
 *
 * @since 0.1.0
 * @category models
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
 * @category options
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
 * @category models
 */
export type CallbackInput = URL | string | URLSearchParams | Readonly<Record<string, string | undefined>>

/**
 * An authorization-code client with PKCE: builds authorize URLs, handles
 * callbacks, and gives an auth policy per connection (one user's grant) that
 * refreshes with rotation.
 *
 * @since 0.1.0
 * @category models
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

/**
 * The authorization code grant with S256 PKCE (RFC 6749 §4.1, RFC 7636),
 * `state`, optional `nonce`, RFC 9207 `iss` checks, and refresh tokens with
 * rotation: a new refresh token from the server replaces the stored one, and
 * the old one is kept only when the server sends none. Refreshes of one
 * connection are single-flight; `invalid_grant` on refresh forgets the tokens
 * and fails with `ReauthorizationRequired`.
 *
 * @since 0.1.0
 * @category constructors
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
  AuthorizationCodeGrant.make(options, (fields) => new PendingAuthorization(fields))
