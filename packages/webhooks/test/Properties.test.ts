/**
 * Random and mutated inputs, for every scheme: verification never throws (no
 * defect) and never accepts anything it did not sign.
 */
import { GenericHmac, GitHub, Shopify, Slack, StandardWebhooks, Stripe, Twilio, Webhook } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck, Redacted } from "effect"
import { createHash, createHmac } from "node:crypto"

const s = Redacted.make
const ts = 1_700_000_000
const now = ts * 1000
const sw = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const twilioUrl = (body: Uint8Array) =>
  `https://example.com/hook?bodySHA256=${createHash("sha256").update(body).digest("hex")}`

interface Case {
  readonly name: string
  readonly verifier: Webhook.Verifier
  readonly sign: (body: Uint8Array) => Record<string, string>
  readonly url?: (body: Uint8Array) => string
}

const cases: ReadonlyArray<Case> = [
  {
    name: "standard",
    verifier: Either.getOrThrow(StandardWebhooks.verifier({ secrets: s(sw) })),
    sign: (body) => Either.getOrThrow(StandardWebhooks.sign(s(sw), { id: "msg_1", timestamp: ts, body }))
  },
  {
    name: "stripe",
    verifier: Stripe.verifier({ secrets: s("whsec_x") }),
    sign: (body) => Stripe.sign(s("whsec_x"), { timestamp: ts, body })
  },
  { name: "github", verifier: GitHub.verifier({ secrets: s("gh") }), sign: (body) => GitHub.sign(s("gh"), body) },
  {
    name: "slack",
    verifier: Slack.verifier({ secrets: s("sl") }),
    sign: (body) => Slack.sign(s("sl"), { timestamp: ts, body })
  },
  { name: "shopify", verifier: Shopify.verifier({ secrets: s("sh") }), sign: (body) => Shopify.sign(s("sh"), body) },
  {
    name: "twilio",
    verifier: Twilio.verifier({ secrets: s("tw") }),
    sign: (body) => Twilio.sign(s("tw"), { url: twilioUrl(body), body }),
    url: twilioUrl
  },
  {
    name: "generic",
    verifier: Either.getOrThrow(GenericHmac.verifier({
      secrets: s("ge"),
      header: "x-sig",
      algorithm: "sha256",
      encoding: "hex",
      prefix: "sha256=",
      template: "{timestamp}.{body}",
      timestampHeader: "x-ts"
    })),
    sign: (body) => ({
      "x-ts": String(ts),
      "x-sig": `sha256=${createHmac("sha256", "ge").update(`${ts}.`).update(body).digest("hex")}`
    })
  }
]

const accepted = (c: Case, headers: Webhook.HeadersInput, body: Uint8Array, url?: string) => {
  const result = c.verifier.verifyAt({ headers, body, url: url ?? c.url?.(body) }, now)
  return !(result instanceof Webhook.WebhookError)
}

const body = FastCheck.uint8Array({ maxLength: 600 })

// 100 runs per property in pnpm test; 10,000 in pnpm test:chaos (APIKIT_CHAOS=1).
const chaos = process.env["APIKIT_CHAOS"] === "1"
const runs = { timeout: chaos ? 600_000 : 30_000, fastCheck: { numRuns: chaos ? 10_000 : 100 } }

describe("properties", () => {
  for (const c of cases) {
    describe(c.name, () => {
      it.prop("accepts what it signed", [body], ([b]) => accepted(c, c.sign(b), b), runs)

      it.prop(
        "never accepts a mutated signature header",
        [body, FastCheck.nat(), FastCheck.integer({ min: 1, max: 0xffff })],
        ([b, i, delta]) => {
          const headers = c.sign(b)
          const names = Object.keys(headers)
          const name = names[i % names.length]!
          const value = headers[name]!
          const at = Math.floor(i / names.length) % value.length
          const mutated = value.slice(0, at) + String.fromCharCode((value.charCodeAt(at) + delta) % 0x10000) +
            value.slice(at + 1)
          return mutated === value || !accepted(c, { ...headers, [name]: mutated }, b)
        },
        runs
      )

      it.prop(
        "never accepts a mutated body",
        [body, FastCheck.nat(), FastCheck.integer({ min: 0, max: 7 })],
        ([b, i, bit]) => {
          const headers = c.sign(b)
          const url = c.url?.(b)
          if (b.length === 0) return !accepted(c, headers, new Uint8Array([0]), url)
          const changed = Uint8Array.from(b)
          changed[i % b.length] = changed[i % b.length]! ^ (1 << bit)
          return !accepted(c, headers, changed, url)
        },
        runs
      )

      it.prop(
        "never throws and never accepts random headers",
        [
          FastCheck.dictionary(
            FastCheck.constantFrom(
              "webhook-id",
              "webhook-timestamp",
              "webhook-signature",
              "svix-id",
              "stripe-signature",
              "x-hub-signature-256",
              "x-slack-signature",
              "x-slack-request-timestamp",
              "x-shopify-hmac-sha256",
              "x-twilio-signature",
              "x-sig",
              "x-ts"
            ),
            FastCheck.oneof(
              FastCheck.string(),
              FastCheck.array(FastCheck.string(), { maxLength: 3 }),
              FastCheck.stringMatching(/^(v1,|v1a,|t=\d+,v1=|sha256=|v0=)[A-Za-z0-9+/=]{0,100}$/)
            )
          ),
          body,
          FastCheck.option(FastCheck.webUrl())
        ],
        ([headers, b, url]) => !accepted(c, headers, b, url ?? undefined),
        runs
      )
    })
  }

  it("rejects every mutation as a WebhookError with a reason, never a throw", () => {
    const c = cases[0]!
    const result = c.verifier.verifyAt({ headers: { "webhook-id": "x" }, body: new Uint8Array() }, now)
    expect(result).toBeInstanceOf(Webhook.WebhookError)
  })
})
