/**
 * Webhook verification throughput with a 2 KB body, per scheme: apikit's
 * verifiers against hand-written node:crypto receivers (createHmac +
 * timingSafeEqual, the least any verifier must do, in the two usual forms) and
 * the providers' own packages, in one run.
 *
 * apikit is measured two ways: `verifyAt`, the synchronous core, and `verify`,
 * the Effect (reading `Clock`), run `batch` times inside one fiber as a receiver
 * does, and once per `Effect.runSync` (entering Effect from plain code each time). Every task
 * verifies a batch of `batch` deliveries so times are well above the timer's resolution.
 *
 * Notes on the peers: `standardwebhooks` and `svix` `verify` also JSON.parse the
 * body (their API offers no signature-only call); Stripe is measured with
 * `webhooks.signature.verifyHeader` (signature only) and `constructEvent`
 * (plus JSON.parse); @octokit/webhooks-methods `verify` is async.
 */
import * as GitHub from "@apikit/webhooks/GitHub"
import * as Shopify from "@apikit/webhooks/Shopify"
import * as Slack from "@apikit/webhooks/Slack"
import * as StandardWebhooks from "@apikit/webhooks/StandardWebhooks"
import * as Stripe from "@apikit/webhooks/Stripe"
import * as Twilio from "@apikit/webhooks/Twilio"
import type * as Webhook from "@apikit/webhooks/Webhook"
import { verify as octokitVerify } from "@octokit/webhooks-methods"
import { Effect, Either, Redacted } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { Webhook as StandardWebhook } from "standardwebhooks"
import StripeSdk from "stripe"
import { Webhook as Svix } from "svix"

const batch = 100
const rounds = 11

const body = JSON.stringify({
  type: "invoice.paid",
  data: { id: "in_1", lines: Array.from({ length: 40 }, (_, i) => ({ id: `li_${i}`, amount: i * 100 })) }
}).padEnd(2048, " ")
const bodyBytes = Buffer.from(body)
const now = Math.floor(Date.now() / 1000)
const nowMillis = now * 1000

/** One raw node:crypto implementation: `[label, verify]`. */
type Raw = readonly [name: string, verify: () => boolean]

interface Case {
  readonly scheme: string
  /** Hand-written node:crypto verifications, the reference for the ratio column. */
  readonly raw: ReadonlyArray<Raw>
  readonly verifier: Webhook.Verifier
  readonly request: Webhook.WebhookRequest
  readonly peers: ReadonlyArray<readonly [string, () => unknown]>
}

const encodedRaw = "node:crypto: digest(encoding) + timingSafeEqual of the texts"
const decodedRaw = "node:crypto: digest() + timingSafeEqual of the decoded header"

/**
 * The two ways a receiver is written by hand with node:crypto, as the providers'
 * docs show them: encode our HMAC and compare the texts (GitHub's, Slack's and
 * Shopify's docs, @octokit/webhooks-methods), or decode the received signature
 * and compare bytes. Both get the secret as the user holds it, read the header
 * from the request, feed the signed prefix and the raw body bytes to the HMAC
 * (no string concatenation of the body) and skip every format check, so they
 * are the least a verifier can do.
 */
const rawPair = (
  algorithm: "sha1" | "sha256",
  key: string | Buffer,
  encoding: "hex" | "base64",
  prefix: () => string,
  body: Buffer | (() => string),
  signature: () => string
): ReadonlyArray<Raw> => {
  const mac = () => {
    const signedPrefix = prefix()
    const h = signedPrefix === "" ? createHmac(algorithm, key) : createHmac(algorithm, key).update(signedPrefix)
    return typeof body === "function" ? h.update(body()) : h.update(body)
  }
  return [
    [encodedRaw, () => {
      const expected = mac().digest(encoding)
      const received = signature()
      return expected.length === received.length && timingSafeEqual(Buffer.from(expected), Buffer.from(received))
    }],
    [decodedRaw, () => {
      const received = Buffer.from(signature(), encoding)
      const expected = mac().digest()
      return expected.length === received.length && timingSafeEqual(expected, received)
    }]
  ]
}

const cases = (): ReadonlyArray<Case> => {
  const swSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  const swKey = Buffer.from(swSecret.slice(6), "base64")
  const sw = Either.getOrThrow(StandardWebhooks.sign(Redacted.make(swSecret), { id: "msg_1", timestamp: now, body }))
  const standard = new StandardWebhook(swSecret)
  const svix = new Svix(swSecret)

  const stripeSecret = "whsec_stripe_bench"
  const stripeHeaders = Stripe.sign(Redacted.make(stripeSecret), { timestamp: now, body })
  const stripeHeader = stripeHeaders["stripe-signature"]!
  const stripe = new StripeSdk("sk_test_bench")

  const gh = GitHub.sign(Redacted.make("gh-secret"), body)
  const slack = Slack.sign(Redacted.make("slack-secret"), { timestamp: now, body })
  const shopify = Shopify.sign(Redacted.make("shop-secret"), body)
  // An inbound SMS as Twilio posts it, about 2 KB: most of the cost is parsing the form, whose
  // percent-escapes (punctuation, `+`) every implementation decodes alike.
  const twilioBody = new URLSearchParams({
    AccountSid: `AC${"0".repeat(32)}`,
    ApiVersion: "2010-04-01",
    Body: "Hi, it's Anna! Can we move Tuesday's call to 3:30pm? Thanks. ".repeat(28),
    From: "+15551234567",
    FromCity: "SAN FRANCISCO",
    MessageSid: `SM${"1".repeat(32)}`,
    NumMedia: "0",
    To: "+15557654321"
  }).toString()
  const twilioBytes = Buffer.from(twilioBody)
  const twilioUrl = "https://example.com/sms"
  const twilio = Twilio.sign(Redacted.make("tw-token"), { url: twilioUrl, body: twilioBody })

  return [
    {
      scheme: "Standard Webhooks",
      // The header carries `v1,<base64>`; the id and timestamp come from their own headers.
      raw: rawPair(
        "sha256",
        swKey,
        "base64",
        () => `${sw["webhook-id"]}.${sw["webhook-timestamp"]}.`,
        bodyBytes,
        () => sw["webhook-signature"]!.slice(3)
      ),
      verifier: Either.getOrThrow(StandardWebhooks.verifier({ secrets: Redacted.make(swSecret) })),
      request: { headers: sw, body: bodyBytes },
      peers: [
        ["standardwebhooks verify (+ JSON.parse)", () => standard.verify(body, sw)],
        ["svix verify (+ JSON.parse)", () => svix.verify(body, sw)]
      ]
    },
    {
      scheme: "Stripe",
      // The timestamp and the one v1 are split out of `t=…,v1=…` the way a hand-written receiver does.
      raw: rawPair(
        "sha256",
        stripeSecret,
        "hex",
        () => `${stripeHeaders["stripe-signature"]!.slice(2, stripeHeader.indexOf(","))}.`,
        bodyBytes,
        () => stripeHeaders["stripe-signature"]!.split(",v1=")[1]!
      ),
      verifier: Stripe.verifier({ secrets: Redacted.make(stripeSecret) }),
      request: { headers: stripeHeaders, body: bodyBytes },
      peers: [
        [
          "stripe webhooks.signature.verifyHeader",
          () => stripe.webhooks.signature!.verifyHeader(body, stripeHeader, stripeSecret, 300)
        ],
        [
          "stripe webhooks.constructEvent (+ JSON.parse)",
          () => stripe.webhooks.constructEvent(body, stripeHeader, stripeSecret, 300)
        ]
      ]
    },
    {
      scheme: "GitHub",
      raw: rawPair("sha256", "gh-secret", "hex", () => "", bodyBytes, () => gh["x-hub-signature-256"]!.slice(7)),
      verifier: GitHub.verifier({ secrets: Redacted.make("gh-secret") }),
      request: { headers: gh, body: bodyBytes },
      peers: [
        [
          "@octokit/webhooks-methods verify (async)",
          () => octokitVerify("gh-secret", body, gh["x-hub-signature-256"]!)
        ]
      ]
    },
    {
      scheme: "Slack",
      raw: rawPair(
        "sha256",
        "slack-secret",
        "hex",
        () => `v0:${slack["x-slack-request-timestamp"]}:`,
        bodyBytes,
        () => slack["x-slack-signature"]!.slice(3)
      ),
      verifier: Slack.verifier({ secrets: Redacted.make("slack-secret") }),
      request: { headers: slack, body: bodyBytes },
      peers: []
    },
    {
      scheme: "Shopify",
      raw: rawPair("sha256", "shop-secret", "base64", () => "", bodyBytes, () => shopify["x-shopify-hmac-sha256"]!),
      verifier: Shopify.verifier({ secrets: Redacted.make("shop-secret") }),
      request: { headers: shopify, body: bodyBytes },
      peers: []
    },
    {
      scheme: "Twilio (form, 2 KB)",
      // Twilio's signed content: the URL, then every form parameter as name + value, sorted by name.
      raw: rawPair("sha1", "tw-token", "base64", () => twilioUrl, () => {
        const params = new URLSearchParams(twilioBytes.toString("utf8"))
        let data = ""
        for (const k of [...params.keys()].sort()) data += k + params.get(k)
        return data
      }, () => twilio["x-twilio-signature"]!),
      verifier: Twilio.verifier({ secrets: Redacted.make("tw-token"), url: twilioUrl }),
      request: { headers: twilio, body: twilioBytes },
      peers: []
    }
  ]
}

const times = (f: () => unknown) => () => {
  for (let i = 0; i < batch; i++) f()
}
const timesAsync = (f: () => unknown) => async () => {
  for (let i = 0; i < batch; i++) await f()
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US")

export async function run(): Promise<string> {
  const all = cases()
  // Every verifier must accept its request before it is timed.
  for (const c of all) {
    for (const [name, f] of c.raw) if (!f()) throw new Error(`${c.scheme}: ${name} does not verify`)
    const result = c.verifier.verifyAt(c.request, nowMillis)
    if (!("id" in result) || "reason" in result) throw new Error(`${c.scheme}: apikit does not verify`)
  }

  // `batched` tasks run a whole batch per call themselves.
  type Task = readonly [name: string, run: () => unknown, async: boolean, batched?: boolean]
  const tasks: Array<Task> = []
  for (const c of all) {
    for (const [name, f] of c.raw) tasks.push([`${c.scheme}|${name}`, f, false])
    tasks.push([`${c.scheme}|apikit verifyAt (sync core)`, () => c.verifier.verifyAt(c.request, nowMillis), false])
    const effect = c.verifier.verify(c.request)
    const inFiber = Effect.withMaxOpsBeforeYield(
      Effect.gen(function*() {
        for (let i = 0; i < batch; i++) yield* effect
      }),
      1e9
    )
    tasks.push([`${c.scheme}|apikit verify (Effect, in one fiber)`, () => Effect.runSync(inFiber), false, true])
    tasks.push([`${c.scheme}|apikit verify (Effect.runSync per delivery)`, () => Effect.runSync(effect), false])
    for (const [name, f] of c.peers) tasks.push([`${c.scheme}|${name}`, f, name.includes("async")])
  }

  // CPU time of the process rather than wall-clock time, and the median of several
  // interleaved rounds (in alternating order): on a shared, loaded machine, wall-clock
  // rates swing by 2x from one second to the next, CPU time far less.
  const samples = new Map<string, Array<number>>()
  const measure = async ([name, f, isAsync, batched]: Task) => {
    const loop = batched ? f : isAsync ? timesAsync(f) : times(f)
    for (let i = 0; i < 20; i++) await loop() // warm-up
    let calls = 0
    const start = process.cpuUsage()
    let used = 0
    while (used < 100_000) {
      await loop()
      calls += batch
      const d = process.cpuUsage(start)
      used = d.user + d.system
    }
    const list = samples.get(name) ?? []
    list.push(calls / (used / 1e6))
    samples.set(name, list)
  }
  for (let round = 0; round < rounds; round++) {
    for (const task of round % 2 === 0 ? tasks : [...tasks].reverse()) await measure(task)
  }
  const opsPerSecond = new Map<string, number>()
  for (const [name] of tasks) {
    const sorted = [...samples.get(name)!].sort((a, b) => a - b)
    opsPerSecond.set(name, sorted[Math.floor(sorted.length / 2)]!)
  }

  const lines = [
    "## Webhook verification (2 KB body)",
    "",
    `Verifications per CPU-second of one valid delivery (median of ${rounds} interleaved rounds), and the`,
    "ratio to the faster of the two hand-written node:crypto receivers for the same scheme: HMAC of",
    "the signed prefix and the raw body, then timingSafeEqual either of our digest's text and the",
    "header's text, or of our digest and the decoded header; no header parsing, format or timestamp checks.",
    "",
    "| scheme | implementation | ops/s | vs node:crypto |",
    "| --- | --- | ---: | ---: |"
  ]
  for (const c of all) {
    const raw = Math.max(...c.raw.map(([name]) => opsPerSecond.get(`${c.scheme}|${name}`)!))
    for (const [name, ops] of opsPerSecond) {
      if (!name.startsWith(`${c.scheme}|`)) continue
      lines.push(`| ${c.scheme} | ${name.slice(c.scheme.length + 1)} | ${fmt(ops)} | ${(ops / raw).toFixed(2)}x |`)
    }
  }
  return lines.join("\n") + "\n"
}
