/**
 * Signed JWT credentials with `jose`: keys from PEM (PKCS#8, or the PKCS#1
 * `BEGIN RSA PRIVATE KEY` files GitHub hands out) or JWK, assertions signed
 * with RS/PS/ES/EdDSA/HS algorithms, and the GitHub App credential (a
 * short-lived JWT, cached until shortly before it expires).
 *
 * The RFC 7523 JWT-bearer grant, which exchanges such an assertion for an
 * access token, is `OAuth2.jwtBearer`.
 *
 * @since 0.1.0
 */
import { AuthError } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Jose from "jose"
import * as Auth from "./Auth.js"
import * as SecureRandom from "./internal/secureRandom.js"
import * as TokenCache from "./internal/tokenCache.js"
import { makeMemory, StoredToken } from "./TokenStore.js"

/**
 * A JWS algorithm `jose` can sign with.
 *
 * @since 0.1.0
 */
export type Algorithm =
  | "RS256"
  | "RS384"
  | "RS512"
  | "PS256"
  | "PS384"
  | "PS512"
  | "ES256"
  | "ES384"
  | "ES512"
  | "EdDSA"
  | "Ed25519"
  | "HS256"
  | "HS384"
  | "HS512"

/**
 * A private signing key: a PEM (PKCS#8 `BEGIN PRIVATE KEY`, or `BEGIN RSA /
 * EC PRIVATE KEY`), a JSON private JWK, or for HS* the shared secret.
 *
 * @since 0.1.0
 */
export interface SigningKey {
  readonly algorithm: Algorithm
  readonly key: Redacted.Redacted<string>
  /** The `kid` header; defaults to the JWK's `kid` when the key is a JWK. */
  readonly keyId?: string | undefined
}

interface Imported {
  readonly key: Jose.CryptoKey | Jose.KeyObject | Uint8Array
  readonly keyId: string | undefined
}

const imported = new WeakMap<SigningKey, Promise<Imported>>()

const importKey = async (signing: SigningKey): Promise<Imported> => {
  const text = Redacted.value(signing.key).trim()
  if (signing.algorithm.startsWith("HS")) {
    return { key: new TextEncoder().encode(text), keyId: signing.keyId }
  }
  if (text.startsWith("{")) {
    const jwk = JSON.parse(text) as Jose.JWK
    const key = await Jose.importJWK(jwk, signing.algorithm)
    return { key, keyId: signing.keyId ?? jwk.kid }
  }
  if (text.includes("-----BEGIN PRIVATE KEY-----")) {
    return { key: await Jose.importPKCS8(text, signing.algorithm), keyId: signing.keyId }
  }
  if (/-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)) {
    // PKCS#1 / SEC1 PEMs are outside Web Crypto; Node's KeyObject reads them and jose signs with it.
    const { createPrivateKey } = await import("node:crypto")
    return { key: createPrivateKey(text), keyId: signing.keyId }
  }
  return Promise.reject(new Error("the key is neither a PEM private key nor a JSON JWK"))
}

const describe = (cause: unknown): string => {
  const text = cause instanceof Error ? cause.message : String(cause)
  // jose's messages describe the key's shape, never its material; keep them short anyway.
  return text.length > 200 ? text.slice(0, 200) + "…" : text
}

/**
 * Signs `claims` with `key`. Failures (unreadable key, algorithm mismatch) are
 * `AuthError{reason: "SigningFailed"}` naming `owner`, never the key.
 *
 * @since 0.1.0
 */
export const sign = (
  owner: string,
  signing: SigningKey,
  claims: Jose.JWTPayload,
  header: Readonly<Record<string, string>> = {}
): Effect.Effect<Redacted.Redacted<string>, AuthError> =>
  Effect.tryPromise({
    try: async () => {
      let pending = imported.get(signing)
      if (pending === undefined) {
        pending = importKey(signing)
        imported.set(signing, pending)
        pending.catch(() => imported.delete(signing))
      }
      const { key, keyId } = await pending
      const jwt = await new Jose.SignJWT(claims)
        .setProtectedHeader({
          alg: signing.algorithm,
          typ: "JWT",
          ...(keyId === undefined ? {} : { kid: keyId }),
          ...header
        })
        .sign(key)
      return Redacted.make(jwt)
    },
    catch: (cause) =>
      new AuthError({
        reason: "SigningFailed",
        key: owner,
        description: `could not sign a JWT with the ${signing.algorithm} key: ${describe(cause)}`,
        transient: false
      })
  })

/**
 * A fresh JWT id: 128 random bits from the platform CSPRNG.
 *
 * @since 0.1.0
 */
export const jti: Effect.Effect<string> = SecureRandom.token(16)

/**
 * Options of {@link assertion}.
 *
 * @since 0.1.0
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
  /** Renew this long before `exp` (default: the larger of 60 s and 10% of the lifetime). */
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
  return Auth.fromCredential(`jwt(${options.key})`, {
    key: options.key,
    get: Effect.map(cache.get, (t) => t.accessToken),
    renew: (rejected) => Effect.map(cache.renew(rejected), (t) => t.accessToken)
  })
}

/**
 * The GitHub App credential: a JWT with `iss` = the app id, `iat` backdated
 * 60 s for clock drift and `exp` 9 minutes ahead (10 minutes after `iat`, the
 * most GitHub accepts), signed RS256 with the app's private key and reused
 * until a minute before it expires. Use it for `/app/...` endpoints.
 *
 * @since 0.1.0
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
