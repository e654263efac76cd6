import { GenericHmac, GitHub, Shopify, Slack, Stripe, Twilio, type Webhook } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods"
import { Effect, Either, Redacted, TestClock } from "effect"
import { createHash, createHmac } from "node:crypto"
import StripeSdk from "stripe"
import twilio from "twilio"

const bytes = (s: string) => new TextEncoder().encode(s)
const secret = (s: string) => Redacted.make(s)

const outcome = (v: Webhook.Verifier, request: Webhook.WebhookRequest, nowSeconds = 0) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(nowSeconds * 1000)
    return yield* v.verify(request).pipe(
      Effect.map(() => "ok"),
      Effect.catchTag("WebhookError", (e) => Effect.succeed(e.reason))
    )
  })

const stripe = new StripeSdk("sk_test_not_a_key")

describe("Stripe", () => {
  const whsec = "whsec_test_secret_for_stripe"
  const body = JSON.stringify({ id: "evt_1", object: "event", type: "invoice.paid" })
  const t = 1_700_000_000
  const v = Stripe.verifier({ secrets: secret(whsec) })

  it.effect("verifies stripe-node's test headers, and stripe-node verifies ours", () =>
    Effect.gen(function*() {
      const theirs = stripe.webhooks.generateTestHeaderString({ payload: body, secret: whsec, timestamp: t })
      expect(yield* outcome(v, { headers: { "stripe-signature": theirs }, body: bytes(body) }, t)).toBe("ok")
      const ours = Stripe.sign(secret(whsec), { timestamp: t, body })["stripe-signature"]!
      expect(ours).toBe(theirs)
      // stripe-node checks against the real clock; a huge tolerance keeps this test independent of it.
      const event = stripe.webhooks.constructEvent(body, ours, whsec, 1e10)
      expect(event.id).toBe("evt_1")
    }))

  it.effect("accepts any matching v1, ignores v0, refuses malformed headers", () =>
    Effect.gen(function*() {
      const good = Stripe.sign(secret(whsec), { timestamp: t, body })["stripe-signature"]!
      const v1 = good.split(",v1=")[1]!
      const run = (header: string, now = t) =>
        outcome(v, { headers: { "stripe-signature": header }, body: bytes(body) }, now)
      expect(yield* run(`t=${t},v1=${"0".repeat(64)},v1=${v1},v0=${"1".repeat(64)}`)).toBe("ok")
      expect(yield* run(`t=${t},v0=${v1}`)).toBe("MalformedHeader")
      expect(yield* run(`t=${t},v1=${v1.toUpperCase()}`)).toBe("MalformedHeader")
      expect(yield* run(`t=${t},v1=${v1.slice(0, 63)}`)).toBe("MalformedHeader")
      expect(yield* run(`t=${t},t=${t},v1=${v1}`)).toBe("MalformedHeader")
      expect(yield* run(`v1=${v1}`)).toBe("MalformedHeader")
      expect(yield* run(`t=${t}.0,v1=${v1}`)).toBe("MalformedHeader")
      expect(yield* run(`t=${t}, v1=${v1}`)).toBe("MalformedHeader")
      expect(yield* run(good, t + 301)).toBe("TimestampTooOld")
      expect(yield* run(good, t - 301)).toBe("TimestampTooNew")
      expect(yield* outcome(v, { headers: { "stripe-signature": good }, body: bytes(body + " ") }, t)).toBe(
        "NoMatchingSignature"
      )
      expect(yield* outcome(v, { headers: {}, body: bytes(body) }, t)).toBe("MissingHeader")
    }))

  it.effect("agrees with stripe-node's verifyHeader on every documented case; stricter only where the README says", () =>
    Effect.gen(function*() {
      const good = Stripe.sign(secret(whsec), { timestamp: t, body })["stripe-signature"]!
      const v1 = good.split(",v1=")[1]!
      const theirs = (header: string, now: number) => {
        try {
          return stripe.webhooks.signature!.verifyHeader(body, header, whsec, 300, undefined, now * 1000)
            ? "ok"
            : "refused"
        } catch {
          return "refused"
        }
      }
      const ours = (header: string, now: number) =>
        Effect.map(
          outcome(v, { headers: { "stripe-signature": header }, body: bytes(body) }, now),
          (r) => r === "ok" ? "ok" : "refused"
        )
      // Documented: any v1 may match; every element other than t and v1 is discarded.
      const agreed: ReadonlyArray<readonly [string, number]> = [
        [good, t],
        [`t=${t},v1=${v1},v1=potato`, t], // stripe-node's own "at least one valid signature" case
        [`t=${t},v1=potato,v1=${v1}`, t],
        [`t=${t},v1=${"0".repeat(64)},v1=${v1},v0=${"1".repeat(64)}`, t],
        [`t=${t},v1=${v1},junk`, t],
        [`t=${t},,v1=${v1}`, t],
        [`t=${t},V1=${"0".repeat(64)},v1=${v1},x-key=1`, t],
        [`v1=${v1},t=${t}`, t],
        [`t=${t},v1=potato`, t],
        [`t=${t},v0=${v1}`, t],
        [`t=${t},v1=${v1.toUpperCase()}`, t],
        [`t=${t},v1=${v1.slice(0, 63)}`, t],
        [`v1=${v1}`, t],
        [`t=${t}, v1=${v1}`, t],
        [`t=${t},v1=${v1}`, t + 301],
        ["", t]
      ]
      for (const [header, now] of agreed) {
        expect([header, yield* ours(header, now)]).toEqual([header, theirs(header, now)])
      }
      // Stricter on purpose (packages/webhooks/README.md, "Stripe: where apikit is stricter").
      const stricter: ReadonlyArray<readonly [string, number]> = [
        [`t=${t},t=${t},v1=${v1}`, t], // two timestamps: stripe-node keeps the last
        [`t=${t}.0,v1=${v1}`, t], // parseInt reads 1700000000 and signs "1700000000."
        [`t=${t},v1=${v1}`, t - 301], // from the future: stripe-node checks the age only
        [`t=${t},v1=${v1}=x`, t] // stripe-node cuts the value at a second "="
      ]
      for (const [header, now] of stricter) {
        expect([header, theirs(header, now), yield* ours(header, now)]).toEqual([header, "ok", "refused"])
      }
    }))

  it.effect("rotation: either secret verifies; two v1 entries are signed", () =>
    Effect.gen(function*() {
      const both = Stripe.sign([secret("whsec_old"), secret(whsec)], { timestamp: t, body })["stripe-signature"]!
      expect(both.match(/v1=/g)).toHaveLength(2)
      expect(yield* outcome(v, { headers: { "stripe-signature": both }, body: bytes(body) }, t)).toBe("ok")
      const rotating = Stripe.verifier({ secrets: [secret("whsec_new"), secret(whsec)] })
      const single = Stripe.sign(secret(whsec), { timestamp: t, body })["stripe-signature"]!
      expect(yield* outcome(rotating, { headers: { "stripe-signature": single }, body: bytes(body) }, t)).toBe("ok")
    }))
})

describe("GitHub", () => {
  // docs.github.com, "Validating webhook deliveries": the documented test values.
  const docSecret = "It's a Secret to Everybody"
  const docBody = "Hello, World!"
  const docSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
  const v = GitHub.verifier({ secrets: secret(docSecret) })

  it.effect("accepts GitHub's documented example and names the delivery id", () =>
    Effect.gen(function*() {
      const verified = yield* v.verify({
        headers: { "x-hub-signature-256": docSignature, "x-github-delivery": "d-1" },
        body: bytes(docBody)
      })
      expect(verified.id).toBe("d-1")
      expect(GitHub.sign(secret(docSecret), docBody)["x-hub-signature-256"]).toBe(docSignature)
    }))

  it.effect("agrees with @octokit/webhooks-methods in both directions", () =>
    Effect.gen(function*() {
      for (const body of ["{}", "{\"action\":\"opened\"}", "ünïcödé"]) {
        const theirs = yield* Effect.promise(() => octokitSign("s3cr3t", body))
        expect(
          yield* outcome(GitHub.verifier({ secrets: secret("s3cr3t") }), {
            headers: { "x-hub-signature-256": theirs },
            body: bytes(body)
          })
        ).toBe("ok")
        const ours = GitHub.sign(secret("s3cr3t"), body)["x-hub-signature-256"]!
        expect(yield* Effect.promise(() => octokitVerify("s3cr3t", body, ours))).toBe(true)
      }
    }))

  it.effect("refuses upper-case hex, the sha1 header, truncation, a wrong prefix and tampering", () =>
    Effect.gen(function*() {
      const run = (header: string | ReadonlyArray<string>, body = docBody) =>
        outcome(v, { headers: { "x-hub-signature-256": header }, body: bytes(body) })
      expect(yield* run(docSignature.toUpperCase().replace("SHA256=", "sha256="))).toBe("MalformedHeader")
      expect(yield* run(docSignature.replace("sha256=", "sha1="))).toBe("MalformedHeader")
      expect(yield* run(docSignature.replace("sha256=", ""))).toBe("MalformedHeader")
      expect(yield* run(docSignature.slice(0, -2))).toBe("MalformedHeader")
      expect(yield* run(` ${docSignature}`)).toBe("MalformedHeader")
      expect(yield* run([docSignature, docSignature])).toBe("MalformedHeader")
      expect(yield* run(docSignature, "Hello, World?")).toBe("NoMatchingSignature")
      expect(yield* outcome(v, { headers: { "x-hub-signature": "sha1=abc" }, body: bytes(docBody) })).toBe(
        "MissingHeader"
      )
    }))

  it("reads the event type from X-GitHub-Event", () => {
    expect(GitHub.eventType({}, { "x-github-event": "push" })).toBe("push")
    expect(GitHub.eventType({}, {})).toBeUndefined()
  })
})

describe("Slack", () => {
  // docs.slack.dev, "Verifying requests from Slack": the documented example.
  const docSecret = "8f742231b10e8888abcd99yyyzzz85a5"
  const docTs = 1531420618
  const docBody =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
  const docSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
  const v = Slack.verifier({ secrets: secret(docSecret) })
  const headers = (signature = docSignature, ts = String(docTs)) => ({
    "x-slack-signature": signature,
    "x-slack-request-timestamp": ts
  })

  it.effect("accepts Slack's documented example and signs it identically", () =>
    Effect.gen(function*() {
      expect(yield* outcome(v, { headers: headers(), body: bytes(docBody) }, docTs + 60)).toBe("ok")
      expect(Slack.sign(secret(docSecret), { timestamp: docTs, body: docBody })).toEqual(headers())
    }))

  it.effect("refuses old, future, malformed and tampered requests", () =>
    Effect.gen(function*() {
      const body = bytes(docBody)
      expect(yield* outcome(v, { headers: headers(), body }, docTs + 301)).toBe("TimestampTooOld")
      expect(yield* outcome(v, { headers: headers(), body }, docTs - 301)).toBe("TimestampTooNew")
      expect(yield* outcome(v, { headers: headers(docSignature.replace("v0=", "v1=")), body }, docTs)).toBe(
        "MalformedHeader"
      )
      expect(yield* outcome(v, { headers: headers(docSignature, "1531420618.0"), body }, docTs)).toBe(
        "MalformedHeader"
      )
      expect(yield* outcome(v, { headers: headers(docSignature, "-1"), body }, docTs)).toBe("MalformedHeader")
      expect(yield* outcome(v, { headers: headers(), body: bytes(docBody + "&x=1") }, docTs)).toBe(
        "NoMatchingSignature"
      )
      expect(yield* outcome(v, { headers: { "x-slack-signature": docSignature }, body }, docTs)).toBe("MissingHeader")
    }))
})

describe("Shopify", () => {
  const body = JSON.stringify({ id: 820982911946154500, email: "jon@example.com" })
  // Shopify publishes no test vector: checked against an independent node:crypto computation.
  const independent = createHmac("sha256", "shpss_secret").update(body).digest("base64")
  const v = Shopify.verifier({ secrets: secret("shpss_secret") })

  it.effect("accepts a correctly signed body and names the webhook id and topic", () =>
    Effect.gen(function*() {
      expect(Shopify.sign(secret("shpss_secret"), body)["x-shopify-hmac-sha256"]).toBe(independent)
      const verified = yield* v.verify({
        headers: { "x-shopify-hmac-sha256": independent, "x-shopify-webhook-id": "wh-1" },
        body: bytes(body)
      })
      expect(verified.id).toBe("wh-1")
      expect(Shopify.eventType({}, { "x-shopify-topic": "orders/create" })).toBe("orders/create")
    }))

  it.effect("refuses hex, unpadded or non-canonical base64, and tampering", () =>
    Effect.gen(function*() {
      const run = (h: string, b = body) => outcome(v, { headers: { "x-shopify-hmac-sha256": h }, body: bytes(b) })
      expect(yield* run(Buffer.from(independent, "base64").toString("hex"))).toBe("MalformedHeader")
      expect(yield* run(independent.replace(/=$/, ""))).toBe("MalformedHeader")
      expect(yield* run(Buffer.from(independent, "base64").toString("base64url"))).not.toBe("ok")
      expect(yield* run(independent, body + " ")).toBe("NoMatchingSignature")
    }))
})

describe("Twilio", () => {
  // Twilio's webhook security docs ("12345", +14158675310) and twilio-node's test fixture (+14158675309).
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2"
  const form = (caller: string) =>
    `CallSid=CA1234567890ABCDE&Caller=${encodeURIComponent(caller)}&Digits=1234&From=${
      encodeURIComponent(caller)
    }&To=%2B18005551212`
  const v = Twilio.verifier({ secrets: secret("12345") })
  const run = (signature: string, body: string, requestUrl: string | undefined = url, verifier = v) =>
    outcome(verifier, { headers: { "x-twilio-signature": signature }, body: bytes(body), url: requestUrl })

  it.effect("accepts Twilio's documented examples", () =>
    Effect.gen(function*() {
      expect(yield* run("GvWf1cFY/Q7PnoempGyD5oXAezc=", form("+14158675310"))).toBe("ok")
      expect(yield* run("RSOYDt4T1cUTdK1PDd93/VVr8B8=", form("+14158675309"))).toBe("ok")
      expect(yield* run("RSOYDt4T1cUTdK1PDd93/VVr8B8=", form("+14158675310"))).toBe("NoMatchingSignature")
    }))

  it.effect("agrees with the twilio library in both directions, with and without the default port", () =>
    Effect.gen(function*() {
      const params = { Body: "héllo wörld+&=", From: "+1555", MessageSid: "SM1", NumMedia: "0" }
      const body = new URLSearchParams(params).toString()
      const theirs = twilio.getExpectedTwilioSignature("12345", url, params)
      expect(yield* run(theirs, body)).toBe("ok")
      expect(yield* run(theirs, body, "https://mycompany.com:443/myapp.php?foo=1&bar=2")).toBe("ok")
      const ours = Twilio.sign(secret("12345"), { url, body })["x-twilio-signature"]!
      expect(twilio.validateRequest("12345", ours, url, params)).toBe(true)
      const withPort = twilio.getExpectedTwilioSignature(
        "12345",
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        params
      )
      expect(yield* run(withPort, body)).toBe("ok")
    }))

  it.effect("checks the bodySHA256 variant for JSON bodies", () =>
    Effect.gen(function*() {
      const body = JSON.stringify({ MessageSid: "SM1", Status: "delivered" })
      const hashed = `https://mycompany.com/status?bodySHA256=${createHash("sha256").update(body).digest("hex")}`
      const signature = twilio.getExpectedTwilioSignature("12345", hashed, {})
      expect(twilio.validateRequestWithBody("12345", signature, hashed, body)).toBe(true)
      expect(yield* run(signature, body, hashed)).toBe("ok")
      expect(yield* run(signature, body + " ", hashed)).toBe("NoMatchingSignature")
      expect(Twilio.sign(secret("12345"), { url: hashed, body })["x-twilio-signature"]).toBe(signature)
    }))

  it.effect("needs the URL, and refuses malformed signatures", () =>
    Effect.gen(function*() {
      const noUrl = { headers: { "x-twilio-signature": "GvWf1cFY/Q7PnoempGyD5oXAezc=" }, body: bytes(form("+1")) }
      expect(yield* outcome(v, noUrl)).toBe("MissingHeader")
      const fixed = Twilio.verifier({ secrets: secret("12345"), url })
      expect(yield* run("GvWf1cFY/Q7PnoempGyD5oXAezc=", form("+14158675310"), "http://proxy/x", fixed)).toBe("ok")
      expect(yield* run("GvWf1cFY/Q7PnoempGyD5oXAezc", form("+14158675310"))).toBe("MalformedHeader")
      expect(yield* run("GvWf1cFY/Q7PnoempGyD5oXAezd=", form("+14158675310"))).toBe("MalformedHeader")
    }))
})

describe("GenericHmac", () => {
  it.effect("verifies configured schemes: algorithm, encoding, prefix, template, timestamp and id headers", () =>
    Effect.gen(function*() {
      const body = "{\"event\":\"ping\"}"
      const v = Either.getOrThrow(GenericHmac.verifier({
        secrets: secret("k"),
        header: "X-Signature",
        algorithm: "sha512",
        encoding: "base64",
        prefix: "v1=",
        template: "{id}:{timestamp}:{body}",
        timestampHeader: "X-Timestamp",
        idHeader: "X-Id"
      }))
      const sig = "v1=" + createHmac("sha512", "k").update(`e-1:100:${body}`).digest("base64")
      const headers = { "x-signature": sig, "x-timestamp": "100", "x-id": "e-1" }
      expect(yield* outcome(v, { headers, body: bytes(body) }, 100)).toBe("ok")
      expect(yield* outcome(v, { headers: { ...headers, "x-id": "e-2" }, body: bytes(body) }, 100)).toBe(
        "NoMatchingSignature"
      )
      expect(yield* outcome(v, { headers, body: bytes(body) }, 401)).toBe("TimestampTooOld")

      const sha1 = Either.getOrThrow(GenericHmac.verifier({
        secrets: [secret("old"), secret("new")],
        header: "x-hook",
        algorithm: "sha1",
        encoding: "hex"
      }))
      const hex = createHmac("sha1", "new").update(body).digest("hex")
      expect(yield* outcome(sha1, { headers: { "x-hook": hex }, body: bytes(body) })).toBe("ok")
      expect(yield* outcome(sha1, { headers: { "x-hook": hex.toUpperCase() }, body: bytes(body) })).toBe(
        "MalformedHeader"
      )
    }))

  it("refuses templates it cannot fill", () => {
    const base = { secrets: secret("k"), header: "x", algorithm: "sha256", encoding: "hex" } as const
    expect(Either.isLeft(GenericHmac.verifier({ ...base, template: "{timestamp}.{body}" }))).toBe(true)
    expect(Either.isLeft(GenericHmac.verifier({ ...base, template: "{id}" }))).toBe(true)
    expect(Either.isLeft(GenericHmac.verifier({ ...base, template: "{body}{body}" }))).toBe(true)
    expect(Either.isRight(GenericHmac.verifier(base))).toBe(true)
  })
})
