/**
 * Proof Key for Code Exchange (RFC 7636), S256 only: the `plain` method
 * protects nothing when the authorization request can be observed.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as SecureRandom from "./internal/secureRandom.js"

/**
 * A verifier and its S256 challenge.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pkce {
  /** Kept by the client until the code exchange. */
  readonly verifier: Redacted.Redacted<string>
  /** Sent in the authorize URL: base64url(SHA-256(verifier)). */
  readonly challenge: string
  readonly method: "S256"
}

/**
 * The S256 challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))).
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Pkce } from "@apikit/auth"
 * import { Effect } from "effect"
 *
 * // RFC 7636 Appendix B
 * const challenge = Pkce.challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
 * // Effect<"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM">
 */
export const challengeOf = (verifier: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).pipe(
    Effect.map((digest) => Encoding.encodeBase64Url(new Uint8Array(digest)))
  )

/**
 * A fresh verifier (32 random bytes from the platform CSPRNG: 43 characters,
 * 256 bits) and its challenge.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Pkce> = Effect.flatMap(
  SecureRandom.token(32),
  (verifier) =>
    Effect.map(challengeOf(verifier), (challenge) => ({
      verifier: Redacted.make(verifier),
      challenge,
      method: "S256" as const
    }))
)
