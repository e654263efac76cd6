/**
 * Signed JWT credentials with `jose`: keys from PEM (PKCS#8, or the PKCS#1
 * `BEGIN RSA PRIVATE KEY` files GitHub hands out) or JWK, assertions signed
 * with RS/PS/ES/EdDSA/HS algorithms, and the GitHub App credential (a
 * short-lived JWT, cached until shortly before it expires) and its
 * installation tokens.
 *
 * The RFC 7523 JWT-bearer grant, which exchanges such an assertion for an
 * access token, is `OAuth2.jwtBearer`.
 *
 * @since 0.1.0
 */
import { AuthError } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import * as Redaction from "@apikit/http/Redaction"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Jose from "jose"
import * as Auth from "./Auth.js"
import * as Signing from "./internal/signing.js"
import * as TokenCache from "./internal/tokenCache.js"
import * as TokenEndpoint from "./internal/tokenEndpoint.js"
import { makeMemory, StoredToken, TokenStore } from "./TokenStore.js"

/**
 * A JWS algorithm `jose` can sign with.
 *
 * @since 0.1.0
 * @category models
 */
export type Algorithm = Signing.Algorithm

/**
 * A private signing key: a PEM (PKCS#8 `BEGIN PRIVATE KEY`, or `BEGIN RSA /
 * EC PRIVATE KEY`), a JSON private JWK, or for HS* the shared secret.
 *
 * @since 0.1.0
 * @category models
 */
export type SigningKey = Signing.SigningKey

/**
 * Signs `claims` with `key`. Failures (unreadable key, algorithm mismatch) are
 * `AuthError{reason: "SigningFailed"}` naming `owner`, never the key.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign: (
  owner: string,
  signing: SigningKey,
  claims: Jose.JWTPayload,
  header?: Readonly<Record<string, string>>
) => Effect.Effect<Redacted.Redacted<string>, AuthError> = Signing.sign

/**
 * A fresh JWT id: 128 random bits from the platform CSPRNG.
 *
 * @since 0.1.0
 * @category signing
 */
export const jti: Effect.Effect<string> = Signing.jti

/**
 * Options of {@link assertion}.
 *
 * @since 0.1.0
 * @category options
 */
export interface AssertionOptions {
  /** Key for logs, errors and the cache. */
  readonly key: string
  readonly signingKey: SigningKey
  /** Claims besides `iat`, `exp` and (unless `jti: false`) `jti`. */
  readonly claims: Jose.JWTPayload
  /** How long a token is valid after its `iat` (default 10 minutes). */
  readonly lifetime?: Duration.DurationInput | undefined
  /** How far `iat` is set in the past, for servers whose clocks run behind (default 0). */
  readonly backdate?: Duration.DurationInput | undefined
  /** Add a random `jti` (default true). */
  readonly jti?: boolean | undefined
  /** Renew this long before `exp`, at most half the lifetime (default: as for OAuth 2.0 tokens, `OAuth2.RefreshMargin`). */
  readonly refreshMargin?:
    | Duration.DurationInput
    | ((lifetime: Duration.Duration) => Duration.DurationInput)
    | undefined
}

/**
 * A self-signed JWT sent as a Bearer token, signed once and reused until
 * shortly before it expires; a 401 signs a new one and replays once.
 *
 * @since 0.1.0
 * @category signing
 */
export const assertion = (options: AssertionOptions): Policy.AuthPolicy => {
  const lifetime = Duration.decode(options.lifetime ?? "10 minutes")
  const backdate = Duration.decode(options.backdate ?? Duration.zero)
  const cache = TokenCache.make({
    key: options.key,
    store: makeMemory(),
    margin: options.refreshMargin ?? TokenCache.defaultMargin,
    expireEntry: true,
    fetch: () =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const iat = Math.floor((now - Duration.toMillis(backdate)) / 1000)
        const exp = iat + Math.floor(Duration.toSeconds(lifetime))
        const id = options.jti === false ? {} : { jti: yield* jti }
        const token = yield* sign(options.key, options.signingKey, { ...options.claims, ...id, iat, exp })
        return new StoredToken({ accessToken: token, obtainedAt: now, expiresAt: exp * 1000, tokenType: "Bearer" })
      })
  })
  return Auth.fromCredential(`jwt(${options.key})`, TokenCache.credential(options.key, cache))
}

/**
 * The GitHub App credential: a JWT with `iss` = the app id, `iat` backdated
 * 60 s for clock drift and `exp` 9 minutes ahead (10 minutes after `iat`, the
 * most GitHub accepts), signed RS256 with the app's private key and reused
 * until a minute before it expires. Use it for `/app/...` endpoints.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Jwt } from "@apikit/auth"
 * import { Redacted } from "effect"
 *
 * const policy = Jwt.githubApp({ appId: "12345", privateKey: Redacted.make("-----BEGIN RSA PRIVATE KEY-----...") })
 */
export const githubApp = (options: {
  readonly appId: string | number
  readonly privateKey: Redacted.Redacted<string>
}): Policy.AuthPolicy =>
  assertion({
    key: `github-app:${options.appId}`,
    signingKey: { algorithm: "RS256", key: options.privateKey },
    claims: { iss: String(options.appId) },
    backdate: "60 seconds",
    lifetime: "10 minutes",
    jti: false,
    refreshMargin: "60 seconds"
  })

const algorithmOf = (jwk: Record<string, unknown>): Algorithm | undefined => {
  if (typeof jwk.alg === "string") return jwk.alg as Algorithm
  if (jwk.kty === "RSA") return "RS256"
  if (jwk.kty === "EC") return jwk.crv === "P-384" ? "ES384" : jwk.crv === "P-521" ? "ES512" : "ES256"
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA"
  return undefined
}

/**
 * A signing key from a JSON private JWK (say, an environment variable): the
 * algorithm is the JWK's `alg`, or the usual one for its key type (RS256,
 * ES256/384/512 by curve, EdDSA), and `kid` is kept. Fails with
 * `AuthError{reason: "Misconfigured"}` when it is not a private JWK.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signingKeyFromJwk = (
  owner: string,
  json: Redacted.Redacted<string>
): Effect.Effect<SigningKey, AuthError> => {
  const misconfigured = (description: string) =>
    Effect.fail(new AuthError({ reason: "Misconfigured", key: owner, description, transient: false }))
  let jwk: unknown
  try {
    jwk = JSON.parse(Redacted.value(json))
  } catch {
    return misconfigured("the private key is not valid JSON (expected a private JWK)")
  }
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) {
    return misconfigured("the private key is not a JSON object (expected a private JWK)")
  }
  const record = jwk as Record<string, unknown>
  if (record.d === undefined) return misconfigured("the JWK has no private part (\"d\"); this is a public key")
  const algorithm = algorithmOf(record)
  if (algorithm === undefined) return misconfigured(`no signing algorithm is known for a ${String(record.kty)} JWK`)
  return Effect.succeed({
    algorithm,
    key: json,
    ...(typeof record.kid === "string" ? { keyId: record.kid } : {})
  })
}

/**
 * Options of {@link githubAppInstallation}.
 *
 * @since 0.1.0
 * @category options
 */
export interface GitHubAppInstallationOptions {
  readonly appId: string | number
  readonly privateKey: Redacted.Redacted<string>
  readonly installationId: string | number
  /** The API root (default `https://api.github.com`; GitHub Enterprise: `https://HOST/api/v3`). */
  readonly baseUrl?: string | undefined
  /** Narrow the token: `{ contents: "read" }`, repository names. */
  readonly permissions?: Readonly<Record<string, string>> | undefined
  readonly repositories?: ReadonlyArray<string> | undefined
  /** Bound on one token request (default 30 seconds). */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A GitHub App installation token (what `@octokit/auth-app` gives for
 * `type: "installation"`): the app's JWT is exchanged at
 * `POST /app/installations/{id}/access_tokens` for a one-hour token, which is
 * cached in the {@link TokenStore} and renewed like OAuth tokens (refresh-ahead,
 * single flight, one renewal and replay on 401).
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Auth, Jwt } from "@apikit/auth"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const repos = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({
 *     baseUrl: "https://api.github.com",
 *     auth: yield* Jwt.githubAppInstallation({
 *       appId: 12345,
 *       installationId: 678,
 *       privateKey: yield* Auth.secret("GITHUB_APP_PRIVATE_KEY")
 *     })
 *   })
 *   return yield* api.get("/installation/repositories")
 * })
 */
export const githubAppInstallation = (
  options: GitHubAppInstallationOptions
): Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const key = `github-installation:${options.appId}:${options.installationId}`
    const base = (options.baseUrl ?? "https://api.github.com").replace(/\/+$/, "")
    const url = `${base}/app/installations/${encodeURIComponent(String(options.installationId))}/access_tokens`
    if (!URL.canParse(url)) {
      return yield* new AuthError({
        reason: "Misconfigured",
        key,
        description: "the GitHub base URL is not an absolute URL",
        transient: false
      })
    }
    const signingKey: SigningKey = { algorithm: "RS256", key: options.privateKey }
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const timeout = Duration.decode(options.timeout ?? "30 seconds")
    const body = {
      ...(options.permissions === undefined ? {} : { permissions: options.permissions }),
      ...(options.repositories === undefined ? {} : { repositories: options.repositories })
    }
    const fetch = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const iat = Math.floor(now / 1000) - 60
      const appJwt = yield* sign(key, signingKey, { iss: String(options.appId), iat, exp: iat + 600 })
      const outgoing = HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders({
          accept: "application/vnd.github+json",
          "x-github-api-version": "2022-11-28",
          authorization: `Bearer ${Redacted.value(appJwt)}`
        }),
        HttpClientRequest.bodyUnsafeJson(body)
      )
      const { body: text, status } = yield* TokenEndpoint.send({ key, timeout, retryable: true }, outgoing)
      return yield* installationToken(key, status, text, now)
    }).pipe(
      Effect.provide(context),
      Effect.withSpan("apikit.auth.token", { kind: "client", attributes: { "apikit.auth.key": key } })
    )
    const cache = TokenCache.make({
      key,
      store,
      margin: TokenCache.defaultMargin,
      expireEntry: true,
      fetch: () => fetch
    })
    return Auth.fromCredential(`github.installation(${options.installationId})`, TokenCache.credential(key, cache))
  })

const installationToken = (key: string, status: number, text: string, now: number) => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const o = typeof json === "object" && json !== null ? json as Record<string, unknown> : {}
  if (status < 200 || status >= 300) {
    const unavailable = status >= 500 || status === 429
    const message = typeof o.message === "string" ? Redaction.excerpt(o.message, 300) : undefined
    return Effect.fail(
      new AuthError({
        reason: unavailable ? "TokenEndpointUnavailable" : "TokenEndpointRejected",
        key,
        status,
        description: message ?? (status === 401
          ? "GitHub refused the app JWT: check the app id and private key"
          : status === 404
          ? "no such installation for this app"
          : "GitHub refused the installation token request"),
        transient: unavailable
      })
    )
  }
  const expiresAt = typeof o.expires_at === "string" ? Date.parse(o.expires_at) : NaN
  if (typeof o.token !== "string" || o.token.length === 0 || !Number.isFinite(expiresAt)) {
    return Effect.fail(
      new AuthError({
        reason: "InvalidTokenResponse",
        key,
        status,
        description: "GitHub's answer has no token or no valid expires_at",
        transient: false
      })
    )
  }
  return Effect.succeed(
    new StoredToken({ accessToken: Redacted.make(o.token), tokenType: "Bearer", obtainedAt: now, expiresAt })
  )
}
