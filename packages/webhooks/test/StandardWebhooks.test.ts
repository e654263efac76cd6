import { StandardWebhooks, type Webhook } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted, TestClock } from "effect"
import { createHmac, generateKeyPairSync, sign as edSign } from "node:crypto"
import { Webhook as StandardWebhook } from "standardwebhooks"
import { Webhook as Svix } from "svix"

// The Standard Webhooks / Svix reference vector (svix-webhooks test suites, standard-webhooks libraries).
const vector = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: "{\"test\": 2432232314}",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
}
const other = "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA=="

const bytes = (s: string) => new TextEncoder().encode(s)
const headers = (signature = vector.signature, ts = String(vector.timestamp), id = vector.id) => ({
  "webhook-id": id,
  "webhook-timestamp": ts,
  "webhook-signature": signature
})

const make = (options: StandardWebhooks.Options) => Either.getOrThrow(StandardWebhooks.verifier(options))
const verifier = make({ secrets: Redacted.make(vector.secret) })

/** Verifies at the vector's time (plus `offset` seconds) on the TestClock; returns the error reason or "ok". */
const outcome = (
  request: Webhook.WebhookRequest,
  v: Webhook.Verifier = verifier,
  offset = 0
) =>
  Effect.gen(function*() {
    yield* TestClock.setTime((vector.timestamp + offset) * 1000)
    return yield* v.verify(request).pipe(
      Effect.map(() => "ok"),
      Effect.catchTag("WebhookError", (e) => Effect.succeed(e.reason))
    )
  })

describe("StandardWebhooks", () => {
  it.effect("accepts the published reference vector", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(vector.timestamp * 1000)
      const verified = yield* verifier.verify({ headers: headers(), body: bytes(vector.body) })
      expect(verified).toEqual({ scheme: "standard-webhooks", id: vector.id, timestamp: vector.timestamp })
    }))

  it.effect("accepts the svix-* header names", () =>
    Effect.gen(function*() {
      const svixHeaders = {
        "svix-id": vector.id,
        "svix-timestamp": String(vector.timestamp),
        "svix-signature": vector.signature
      }
      expect(yield* outcome({ headers: svixHeaders, body: bytes(vector.body) })).toBe("ok")
    }))

  it.effect("signs exactly like the reference libraries, and verifies what they sign", () =>
    Effect.gen(function*() {
      const ours = Either.getOrThrow(
        StandardWebhooks.sign([Redacted.make(vector.secret)], { ...vector, body: vector.body })
      )
      expect(ours["webhook-signature"]).toBe(vector.signature)
      const at = new Date(vector.timestamp * 1000)
      const theirs = new StandardWebhook(vector.secret).sign(vector.id, at, vector.body)
      const svix = new Svix(vector.secret).sign(vector.id, at, vector.body)
      expect(theirs).toBe(vector.signature)
      expect(svix).toBe(vector.signature)

      // Random bodies, both directions; the libraries check against the real clock, so sign "now" for them.
      const now = Math.floor(Date.now() / 1000)
      // svix parses the body as JSON after verifying, so these are JSON.
      for (const body of ["{}", "{\"a\": \"ünïcödé ✓ \\u0000\"}", JSON.stringify({ x: "x".repeat(5000) })]) {
        const signed = Either.getOrThrow(
          StandardWebhooks.sign(Redacted.make(other), { id: "msg_1", timestamp: now, body })
        )
        expect(() => new StandardWebhook(other).verify(body, signed)).not.toThrow()
        expect(() => new Svix(other).verify(body, signed)).not.toThrow()
        const libSigned = new StandardWebhook(other).sign("msg_1", new Date(now * 1000), body)
        yield* TestClock.setTime(now * 1000)
        const v = make({ secrets: Redacted.make(other) })
        const result = yield* v.verify({
          headers: { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": libSigned },
          body: bytes(body)
        })
        expect(result.id).toBe("msg_1")
      }
    }))

  it.effect("refuses tampered bodies, wrong secrets and timestamps outside the tolerance", () =>
    Effect.gen(function*() {
      const body = bytes(vector.body)
      expect(yield* outcome({ headers: headers(), body: bytes(vector.body + " ") })).toBe("NoMatchingSignature")
      expect(yield* outcome({ headers: headers(), body }, make({ secrets: Redacted.make(other) })))
        .toBe("NoMatchingSignature")
      expect(yield* outcome({ headers: headers(), body }, verifier, 301)).toBe("TimestampTooOld")
      expect(yield* outcome({ headers: headers(), body }, verifier, -301)).toBe("TimestampTooNew")
      expect(yield* outcome({ headers: headers(), body }, verifier, 300)).toBe("ok")
      expect(yield* outcome({ headers: headers(), body }, verifier, -300)).toBe("ok")
      const noWindow = make({ secrets: Redacted.make(vector.secret), tolerance: 0 })
      expect(yield* outcome({ headers: headers(), body }, noWindow, 10 * 365 * 86400)).toBe("ok")
      const tight = make({ secrets: Redacted.make(vector.secret), tolerance: 10 })
      expect(yield* outcome({ headers: headers(), body }, tight, 11)).toBe("TimestampTooOld")
    }))

  it.effect("refuses missing, malformed and duplicated headers", () =>
    Effect.gen(function*() {
      const body = bytes(vector.body)
      const { "webhook-id": _, ...noId } = headers()
      expect(yield* outcome({ headers: noId, body })).toBe("MissingHeader")
      const { "webhook-signature": __, ...noSig } = headers()
      expect(yield* outcome({ headers: noSig, body })).toBe("MissingHeader")
      expect(yield* outcome({ headers: headers(vector.signature, "1614265330.5"), body })).toBe("MalformedHeader")
      expect(yield* outcome({ headers: headers(vector.signature, "+1614265330"), body })).toBe("MalformedHeader")
      expect(yield* outcome({ headers: headers(vector.signature, "1e9"), body })).toBe("MalformedHeader")
      expect(
        yield* outcome({ headers: { ...headers(), "webhook-signature": [vector.signature, vector.signature] }, body })
      )
        .toBe("MalformedHeader")
      // Wrong version prefix, truncated, non-canonical base64 (same bytes, last char's spare bits set), not base64.
      expect(yield* outcome({ headers: headers(vector.signature.replace("v1,", "v2,")), body })).toBe("MalformedHeader")
      expect(yield* outcome({ headers: headers(vector.signature.slice(0, -4)), body })).toBe("MalformedHeader")
      expect(yield* outcome({ headers: headers(vector.signature.replace("1OE=", "1OF=")), body })).toBe(
        "MalformedHeader"
      )
      expect(Buffer.from("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", "base64").toString("base64"))
        .toBe(vector.signature.slice(3)) // Node would accept it: that is why we check canonical form
      expect(yield* outcome({ headers: headers(vector.signature.replace("v1,", "v1, ")), body })).toBe(
        "MalformedHeader"
      )
      expect(yield* outcome({ headers: headers("v1," + "-".repeat(43) + "="), body })).toBe("MalformedHeader")
    }))

  it.effect("accepts any matching signature among several, and several secrets (rotation)", () =>
    Effect.gen(function*() {
      const body = bytes(vector.body)
      const rotated = Either.getOrThrow(
        StandardWebhooks.sign([Redacted.make(other), Redacted.make(vector.secret)], { ...vector })
      )["webhook-signature"]!
      expect(rotated.split(" ")).toHaveLength(2)
      expect(rotated.split(" ")[1]).toBe(vector.signature)
      expect(yield* outcome({ headers: headers(rotated), body })).toBe("ok")
      expect(yield* outcome({ headers: headers(`v2,abc ${vector.signature}`), body })).toBe("ok")
      const both = make({ secrets: [Redacted.make(other), Redacted.make(vector.secret)] })
      expect(yield* outcome({ headers: headers(), body }, both)).toBe("ok")
    }))

  it.effect("verifies v1a ed25519 signatures with whpk_ public keys", () =>
    Effect.gen(function*() {
      const { privateKey, publicKey } = generateKeyPairSync("ed25519")
      const raw = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url")
      const whpk = `whpk_${raw.toString("base64")}`
      const content = Buffer.from(`${vector.id}.${vector.timestamp}.${vector.body}`)
      const sig = `v1a,${edSign(null, content, privateKey).toString("base64")}`
      const v = make({ publicKeys: [whpk] })
      expect(yield* outcome({ headers: headers(sig), body: bytes(vector.body) }, v)).toBe("ok")
      expect(yield* outcome({ headers: headers(sig), body: bytes(vector.body + "!") }, v)).toBe("NoMatchingSignature")
      expect(Either.isLeft(StandardWebhooks.verifier({ publicKeys: ["whpk_abc"] }))).toBe(true)
    }))

  it("refuses secrets that are not base64, without echoing them", () => {
    const error = StandardWebhooks.verifier({ secrets: Redacted.make("whsec_not base64!") })
    expect(Either.isLeft(error)).toBe(true)
    if (Either.isLeft(error)) {
      expect(error.left._tag).toBe("WebhookConfigError")
      expect(error.left.message).not.toContain("not base64!")
    }
  })

  it.effect("never puts the secret or the expected signature in an error", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(vector.timestamp * 1000)
      const error = yield* Effect.flip(verifier.verify({ headers: headers(), body: bytes("tampered") }))
      const expected = createHmac("sha256", Buffer.from(vector.secret.slice(6), "base64"))
        .update(`${vector.id}.${vector.timestamp}.tampered`).digest("base64")
      const rendered = `${error.message} ${JSON.stringify(error)} ${String(error)}`
      expect(rendered).not.toContain(vector.secret.slice(6))
      expect(rendered).not.toContain(expected)
      expect(error.message).toContain("NoMatchingSignature")
      expect(error.header).toBe("webhook-signature")
    }))
})
