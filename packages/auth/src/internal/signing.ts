import { AuthError } from "@apikit/http/ApiError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Jose from "jose"
import * as SecureRandom from "./secureRandom.js"

/** A JWS algorithm `jose` can sign with. */
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
  if (signing.algorithm.startsWith("HS")) {
    // A shared secret is used byte for byte: no trimming.
    return { key: new TextEncoder().encode(Redacted.value(signing.key)), keyId: signing.keyId }
  }
  const text = Redacted.value(signing.key).trim()
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
