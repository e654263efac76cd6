/**
 * The receiver over a real node:http server on 127.0.0.1 (port 0), requests
 * sent with node:http so the bytes on the wire are exactly the test's.
 */
import { Capture } from "@apikit/testing"
import { GitHub, Receiver, ReplayGuard, Slack, StandardWebhooks, Twilio } from "@apikit/webhooks"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck, Layer, Redacted, Ref, Schema, TestClock } from "effect"
import * as Http from "node:http"

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const now = 1_700_000_000

const InvoicePaid = Schema.Struct({
  type: Schema.Literal("invoice.paid"),
  data: Schema.Struct({ id: Schema.String, amount: Schema.Number })
})

interface Sent {
  readonly status: number
  readonly body: string
}

/** POSTs raw bytes (optionally in several chunks, without Content-Length) and reads the answer. */
const post = (
  port: number,
  headers: Record<string, string>,
  body: Uint8Array | ReadonlyArray<Uint8Array>,
  path = "/hooks"
) =>
  Effect.async<Sent>((resume) => {
    const chunked = Array.isArray(body)
    const request = Http.request({
      host: "127.0.0.1",
      port,
      path,
      method: "POST",
      headers: chunked ? headers : { ...headers, "content-length": String((body as Uint8Array).length) }
    }, (response) => {
      let text = ""
      response.on("data", (c) => (text += c))
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode!, body: text })))
    })
    // The server may answer 413 and close before reading everything; that answer is what we want.
    request.on("error", (e) => resume(Effect.succeed({ status: -1, body: String(e) })))
    for (const chunk of chunked ? body : [body as Uint8Array]) request.write(chunk)
    request.end()
  })

const signed = (id: string, body: string | Uint8Array, timestamp = now) =>
  Either.getOrThrow(StandardWebhooks.sign(Redacted.make(secret), { id, timestamp, body }))

const serve = (app: HttpRouter.HttpRouter<never, never>) =>
  Effect.gen(function*() {
    const server: HttpServer.HttpServer = yield* NodeHttpServer.make(() => Http.createServer(), {
      port: 0,
      host: "127.0.0.1"
    })
    yield* server.serve(app)
    const address = server.address
    return address._tag === "TcpAddress" ? address.port : 0
  })

const setup = Effect.gen(function*() {
  yield* TestClock.setTime(now * 1000)
  const verifier = yield* StandardWebhooks.verifier({ secrets: Redacted.make(secret) })
  const seen = yield* Ref.make<ReadonlyArray<{ id: string; amount: number; raw: Uint8Array }>>([])
  const others = yield* Ref.make<ReadonlyArray<string | undefined>>([])
  const failNext = yield* Ref.make(false)
  const guard = yield* Layer.build(ReplayGuard.layerMemory())
  const app = HttpRouter.empty.pipe(
    HttpRouter.post(
      "/hooks",
      Receiver.make({
        verifier,
        maxBodyBytes: 1024,
        routes: [
          Receiver.on("invoice.paid", InvoicePaid, (event, delivery) =>
            Effect.gen(function*() {
              if (yield* Ref.getAndSet(failNext, false)) return yield* Effect.fail("database down")
              yield* Ref.update(seen, (all) => [...all, { ...event.data, raw: delivery.body }])
            }))
        ],
        fallback: (delivery) => Ref.update(others, (all) => [...all, delivery.type])
      }).pipe(Effect.provide(guard))
    )
  )
  const port = yield* serve(app)
  return { port, seen, others, failNext }
})

describe("Receiver over a real server", () => {
  it.scoped("verifies the raw bytes, decodes, dispatches, and answers a duplicate with 200 without reprocessing", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* setup
      // Odd spacing, a BOM-free multi-byte character and a trailing newline: a re-serialized body would not verify.
      const raw = new TextEncoder().encode(
        "{ \"type\" : \"invoice.paid\",\n  \"data\": {\"id\":\"in_1\", \"amount\": 4200, \"note\":\"café ☕\"} }\n"
      )
      const first = yield* post(port, signed("msg_1", raw), raw)
      expect(first).toEqual({ status: 200, body: "ok" })
      const again = yield* post(port, signed("msg_1", raw), raw)
      expect(again.status).toBe(200)
      const handled = yield* Ref.get(seen)
      expect(handled).toHaveLength(1)
      expect(handled[0]!.id).toBe("in_1")
      expect(handled[0]!.amount).toBe(4200)
      expect(Buffer.from(handled[0]!.raw).equals(Buffer.from(raw))).toBe(true)
    }))

  it.scoped("answers 401/400 with generic bodies for bad signatures, headers and events", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* setup
      const body = JSON.stringify({ type: "invoice.paid", data: { id: "in_2", amount: 1 } })
      const tampered = yield* post(port, signed("msg_2", body), new TextEncoder().encode(body.replace("1}", "9}")))
      expect(tampered).toEqual({ status: 401, body: "unauthorized" })
      const old = yield* post(port, signed("msg_3", body, now - 3600), new TextEncoder().encode(body))
      expect(old).toEqual({ status: 401, body: "unauthorized" })
      const { "webhook-signature": _, ...unsigned } = signed("msg_4", body)
      expect(yield* post(port, unsigned, new TextEncoder().encode(body))).toEqual({ status: 400, body: "bad request" })
      const wrongShape = JSON.stringify({ type: "invoice.paid", data: { id: 5 } })
      expect((yield* post(port, signed("msg_5", wrongShape), new TextEncoder().encode(wrongShape))).status).toBe(400)
      const notJson = "type=invoice.paid"
      expect((yield* post(port, signed("msg_6", notJson), new TextEncoder().encode(notJson))).status).toBe(400)
      expect(yield* Ref.get(seen)).toHaveLength(0)
    }))

  it.scoped("answers 413 past the size limit, by Content-Length and while streaming", () =>
    Effect.gen(function*() {
      const { port, seen } = yield* setup
      const big = new Uint8Array(2048).fill(0x20)
      expect(yield* post(port, signed("msg_7", big), big)).toEqual({ status: 413, body: "payload too large" })
      const chunk = new Uint8Array(512).fill(0x20)
      const streamed = yield* post(port, signed("msg_8", big), [chunk, chunk, chunk, chunk])
      expect(streamed.status).toBe(413)
      expect(yield* Ref.get(seen)).toHaveLength(0)
    }))

  it.scoped("answers 500 when the handler fails, and processes the redelivery", () =>
    Effect.gen(function*() {
      const { failNext, port, seen } = yield* setup
      const body = new TextEncoder().encode(JSON.stringify({ type: "invoice.paid", data: { id: "in_9", amount: 9 } }))
      yield* Ref.set(failNext, true)
      expect(yield* post(port, signed("msg_9", body), body)).toEqual({ status: 500, body: "handler failed" })
      expect(yield* post(port, signed("msg_9", body), body)).toEqual({ status: 200, body: "ok" })
      expect((yield* Ref.get(seen)).map((e) => e.id)).toEqual(["in_9"])
    }))

  it.scoped("sends unknown event types to the fallback", () =>
    Effect.gen(function*() {
      const { others, port } = yield* setup
      const body = new TextEncoder().encode(JSON.stringify({ type: "customer.created", data: {} }))
      expect((yield* post(port, signed("msg_10", body), body)).status).toBe(200)
      expect(yield* Ref.get(others)).toEqual(["customer.created"])
    }))
})

describe("Receiver.handle", () => {
  it.effect("keeps secrets out of logs and spans, and dispatches GitHub events by header", () =>
    Effect.gen(function*() {
      const sentinel = "SENTINEL-gh-secret-8f3a"
      const pushes = yield* Ref.make(0)
      const options = {
        verifier: GitHub.verifier({ secrets: Redacted.make(sentinel) }),
        eventType: GitHub.eventType,
        routes: [Receiver.on("push", Schema.Struct({ ref: Schema.String }), () => Ref.update(pushes, (n) => n + 1))]
      }
      const body = new TextEncoder().encode(JSON.stringify({ ref: "refs/heads/main" }))
      const headers = {
        ...GitHub.sign(Redacted.make(sentinel), body),
        "x-github-event": "push",
        "x-github-delivery": "d1"
      }
      expect(yield* Receiver.handle(options, { headers, body })).toEqual({ status: 200, body: "ok" })
      expect((yield* Receiver.handle(options, { headers, body })).status).toBe(200)
      expect(yield* Ref.get(pushes)).toBe(1)
      const bad = { ...headers, "x-github-delivery": "d2", "x-hub-signature-256": `sha256=${"0".repeat(64)}` }
      expect(yield* Receiver.handle(options, { headers: bad, body })).toEqual({ status: 401, body: "unauthorized" })
      const capture = yield* Capture.Capture
      const dump = capture.dump()
      expect(dump).toContain("NoMatchingSignature")
      expect(dump).not.toContain(sentinel)
      expect(dump).not.toContain(GitHub.sign(Redacted.make(sentinel), body)["x-hub-signature-256"]!.slice(7))
    }).pipe(Effect.provide(Layer.merge(ReplayGuard.layerMemory(), Capture.layer))))
})

describe("Receiver.handle for Slack", () => {
  it.effect("answers the url_verification challenge after verifying it, and dispatches event_callback by inner type", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now * 1000)
      const mentions = yield* Ref.make<ReadonlyArray<string>>([])
      const AppMention = Schema.Struct({
        event_id: Schema.String,
        event: Schema.Struct({ type: Schema.Literal("app_mention"), text: Schema.String })
      })
      const options = {
        verifier: Slack.verifier({ secrets: Redacted.make("slack-signing-secret") }),
        challenge: Slack.urlVerification,
        eventType: Slack.eventType,
        routes: [Receiver.on("app_mention", AppMention, (e) => Ref.update(mentions, (all) => [...all, e.event.text]))]
      }
      const send = (json: unknown, secret = "slack-signing-secret") => {
        const body = new TextEncoder().encode(JSON.stringify(json))
        return Receiver.handle(options, { headers: Slack.sign(Redacted.make(secret), { timestamp: now, body }), body })
      }
      const handshake = {
        type: "url_verification",
        token: "t",
        challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
      }
      expect(yield* send(handshake)).toEqual({ status: 200, body: handshake.challenge })
      expect((yield* send(handshake, "forged")).status).toBe(401)
      const callback = { type: "event_callback", event_id: "Ev1", event: { type: "app_mention", text: "hi" } }
      expect((yield* send(callback)).status).toBe(200)
      expect((yield* send(callback)).status).toBe(200) // a Slack retry of Ev1: acknowledged, not processed again
      expect(yield* Ref.get(mentions)).toEqual(["hi"])
    }).pipe(Effect.provide(ReplayGuard.layerMemory())))
})

describe("Receiver.handle for Twilio", () => {
  it.effect("decodes form bodies and dispatches on a field of the form", () =>
    Effect.gen(function*() {
      const statuses = yield* Ref.make<ReadonlyArray<string>>([])
      const url = "https://example.com/twilio/status"
      const options = {
        verifier: Twilio.verifier({ secrets: Redacted.make("twilio-token"), url }),
        eventType: (json: unknown) => (json as { MessageStatus?: string }).MessageStatus,
        routes: [
          Receiver.on(
            "delivered",
            Schema.Struct({ MessageSid: Schema.String, MessageStatus: Schema.Literal("delivered") }),
            (e) => Ref.update(statuses, (all) => [...all, e.MessageSid])
          )
        ]
      }
      const body = new TextEncoder().encode("MessageSid=SM1&MessageStatus=delivered&To=%2B15551234567")
      const headers = {
        ...Twilio.sign(Redacted.make("twilio-token"), { url, body }),
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "i-twilio-idempotency-token": "idem-1"
      }
      expect(yield* Receiver.handle(options, { headers, body })).toEqual({ status: 200, body: "ok" })
      expect((yield* Receiver.handle(options, { headers, body })).status).toBe(200)
      expect(yield* Ref.get(statuses)).toEqual(["SM1"])
    }).pipe(Effect.provide(ReplayGuard.layerMemory())))
})

describe("Receiver.handle with random input", () => {
  const verifier = Either.getOrThrow(StandardWebhooks.verifier({ secrets: Redacted.make(secret) }))
  const options = { verifier, routes: [Receiver.on("invoice.paid", InvoicePaid, () => Effect.void)] }

  it.effect.prop(
    "answers 400 or 401 to unsigned garbage, never 2xx or 500",
    [
      FastCheck.uint8Array({ maxLength: 300 }),
      FastCheck.dictionary(
        FastCheck.constantFrom("webhook-id", "webhook-timestamp", "webhook-signature", "svix-id"),
        FastCheck.string()
      )
    ],
    ([body, headers]) =>
      Effect.gen(function*() {
        const { status } = yield* Receiver.handle(options, { headers, body })
        expect([400, 401]).toContain(status)
      }).pipe(Effect.provide(ReplayGuard.layerMemory()))
  )

  it.effect.prop(
    "never answers 500 to signed bodies of random JSON or text",
    [FastCheck.oneof(FastCheck.json(), FastCheck.string())],
    ([text]) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(now * 1000)
        const body = new TextEncoder().encode(text)
        const { status } = yield* Receiver.handle(options, { headers: signed("msg_p", body), body })
        // A random JSON value may happen to be a valid invoice.paid event or carry an unknown type: 200.
        expect([200, 400]).toContain(status)
      }).pipe(Effect.provide(ReplayGuard.layerMemory()))
  )
})
