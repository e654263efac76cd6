import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"

/**
 * Cryptographically random bytes, base64url-encoded. PKCE verifiers, `state`,
 * `nonce` and `jti` guard against forgery, so they come from the platform's
 * CSPRNG (Web Crypto), not from effect/Random, which is a seeded PRNG meant
 * for reproducible tests.
 */
export const token = (bytes: number): Effect.Effect<string> =>
  Effect.sync(() => Encoding.encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(bytes))))
