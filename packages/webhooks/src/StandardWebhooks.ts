/**
 * Standard Webhooks (https://www.standardwebhooks.com), the format Svix sends:
 * `webhook-id`, `webhook-timestamp` and `webhook-signature` headers (or their
 * `svix-*` twins), `v1,` base64 HMAC-SHA256 of `id.timestamp.body` keyed with
 * the base64 bytes of a `whsec_` secret, several space-separated signatures
 * during rotation, and `v1a,` ed25519 signatures checked with `whpk_` public keys.
 *
 * @since 0.1.0
 * @example
 * import { StandardWebhooks } from "@apikit/webhooks"
 * import { Effect, Redacted } from "effect"
 *
 * // The Standard Webhooks reference vector.
 * const program = Effect.gen(function*() {
 *   const verifier = yield* StandardWebhooks.verifier({ secrets: Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") })
 *   return yield* verifier.verify({
 *     headers: {
 *       "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
 *       "webhook-timestamp": "1614265330",
 *       "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
 *     },
 *     body: new TextEncoder().encode('{"test": 2432232314}')
 *   })
 * }) // fails with TimestampTooOld unless the clock says 1614265330 ± 300 s
 */
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { createPublicKey, type KeyObject, verify as ed25519Verify } from "node:crypto"
import {
  decodeBase64,
  decodeBase64Any,
  equalText,
  fail,
  hmac,
  hmacText,
  isBase64,
  keyOf,
  optionalHeader,
  requiredHeader,
  secretList,
  timestamp
} from "./internal/core.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** `whsec_` secrets (the prefix is optional); any of them may match. */
  readonly secrets?: Webhook.Secrets
  /** `whpk_` ed25519 public keys for `v1a` signatures. */
  readonly publicKeys?: ReadonlyArray<string>
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
}

const scheme = "standard-webhooks"
// The `webhook-*` names are the standard; `svix-*` is what Svix sent before it.
const standardNames = { id: "webhook-id", timestamp: "webhook-timestamp", signature: "webhook-signature" }
const svixNames = { id: "svix-id", timestamp: "svix-timestamp", signature: "svix-signature" }

/**
 * Decodes a `whsec_` secret into its HMAC key bytes.
 *
 * @since 0.1.0
 * @category signing
 */
export const secretKey = (secret: Redacted.Redacted<string>): Either.Either<Uint8Array, Webhook.WebhookConfigError> => {
  const raw = Redacted.value(secret)
  const bytes = decodeBase64Any(raw.startsWith("whsec_") ? raw.slice(6) : raw)
  return bytes === undefined || bytes.length === 0
    ? Either.left(
      new Webhook.WebhookConfigError({ scheme, detail: "a secret is not `whsec_` followed by canonical base64" })
    )
    : Either.right(bytes)
}

const publicKey = (value: string): Either.Either<KeyObject, Webhook.WebhookConfigError> => {
  const raw = value.startsWith("whpk_") ? value.slice(5) : value
  const bytes = decodeBase64Any(raw)
  if (bytes === undefined || bytes.length !== 32) {
    return Either.left(
      new Webhook.WebhookConfigError({ scheme, detail: "a public key is not `whpk_` followed by 32 bytes of base64" })
    )
  }
  return Either.right(
    createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: bytes.toString("base64url") }, format: "jwk" })
  )
}

const keys = (secrets: Webhook.Secrets | undefined): Either.Either<Array<KeyObject>, Webhook.WebhookConfigError> =>
  Either.all((secrets === undefined ? [] : secretList(secrets)).map((s) => Either.map(secretKey(s), keyOf)))

/** Whether any of the header's `count` `v1,` entries holds well-formed base64 of 32 bytes. */
const hasBase64Signature = (signatures: string, count: number): boolean =>
  count > 0 &&
  signatures.split(" ").some((entry) => entry.startsWith("v1,") && isBase64(entry.slice(3), 32))

/**
 * Makes a verifier for Standard Webhooks (and Svix) deliveries.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Either.Either<Webhook.Verifier, Webhook.WebhookConfigError> =>
  Either.gen(function*() {
    const hmacKeys = yield* keys(options.secrets)
    const edKeys = yield* Either.all((options.publicKeys ?? []).map(publicKey))
    const tolerance = options.tolerance ?? Webhook.defaultTolerance
    return Webhook.make(scheme, Webhook.windowFor(tolerance), (request, now) => {
      const { headers } = request
      const svix = headers["webhook-id"] === undefined && optionalHeader(scheme, headers, "svix-id") !== undefined
      const names = svix ? svixNames : standardNames
      const id = requiredHeader(scheme, headers, names.id)
      if (typeof id !== "string") return id
      const rawTs = requiredHeader(scheme, headers, names.timestamp)
      if (typeof rawTs !== "string") return rawTs
      const signatures = requiredHeader(scheme, headers, names.signature)
      if (typeof signatures !== "string") return signatures
      const ts = timestamp(scheme, names.timestamp, rawTs, tolerance, now)
      if (typeof ts !== "number") return ts

      // `v1` entries stay text, compared where they sit in the header: the expected signature is
      // encoded once per key, and the base64 check runs only when none matches (a match is
      // canonical base64).
      const signedPrefix = `${id}.${rawTs}.`
      let expected: Array<string> | undefined
      let v1 = 0
      let v1a: Array<Buffer> | undefined
      let ok = false
      // Space-separated entries, walked in place (the usual header has one).
      for (let start = 0; start <= signatures.length;) {
        let end = signatures.indexOf(" ", start)
        if (end === -1) end = signatures.length
        if (signatures.startsWith("v1,", start)) {
          v1++
          if (end - start === 47) {
            expected ??= hmacKeys.map((key) => hmacText("sha256", key, "base64", signedPrefix, request.body))
            // No early exit: every candidate is compared, so timing does not tell which secret matched.
            for (const text of expected) ok = equalText(text, signatures, start + 3, end) || ok
          }
        } else if (signatures.startsWith("v1a,", start)) {
          const sig = decodeBase64(signatures.slice(start + 4, end), 64)
          if (sig !== undefined) (v1a ??= []).push(sig)
        }
        // Other versions are ignored, as the spec asks, so new ones can be rolled out.
        start = end + 1
      }
      if (ok) return { scheme, id, timestamp: ts }
      if (v1a === undefined && !hasBase64Signature(signatures, v1)) {
        return fail(
          scheme,
          "MalformedHeader",
          names.signature,
          "expected `v1,<base64 HMAC-SHA256>` or `v1a,<base64 ed25519>` entries"
        )
      }
      if (v1a !== undefined && edKeys.length > 0) {
        const content = Buffer.concat([Buffer.from(signedPrefix, "utf8"), request.body])
        for (const key of edKeys) {
          for (const sig of v1a) ok = ed25519Verify(null, content, key, sig) || ok
        }
      }
      return ok ? { scheme, id, timestamp: ts } : fail(scheme, "NoMatchingSignature", names.signature)
    })
  })

/**
 * @since 0.1.0
 * @category options
 */
export interface SignOptions {
  readonly id: string
  /** Unix seconds. */
  readonly timestamp: number
  readonly body: Uint8Array | string
  /** `webhook-` (default) or `svix-` header names. */
  readonly headerPrefix?: "webhook-" | "svix-"
}

/**
 * Makes a signer: one `v1` signature per secret, space-separated, so receivers
 * holding either the old or the new secret accept it during a rotation.
 *
 * @since 0.1.0
 * @category signing
 */
export const signer = (
  secrets: Webhook.Secrets
): Either.Either<(options: SignOptions) => Record<string, string>, Webhook.WebhookConfigError> =>
  Either.map(keys(secrets), (hmacKeys) => (options) => {
    const body = typeof options.body === "string" ? Buffer.from(options.body, "utf8") : options.body
    const signedPrefix = `${options.id}.${options.timestamp}.`
    const signature = hmacKeys.map((key) => `v1,${hmac("sha256", key, signedPrefix, body).toString("base64")}`)
      .join(" ")
    const p = options.headerPrefix ?? "webhook-"
    return { [`${p}id`]: options.id, [`${p}timestamp`]: String(options.timestamp), [`${p}signature`]: signature }
  })

/**
 * Signs one message: the three headers to send with the body.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (
  secrets: Webhook.Secrets,
  options: SignOptions
): Either.Either<Record<string, string>, Webhook.WebhookConfigError> => Either.map(signer(secrets), (f) => f(options))
