import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingHttpHeaders } from "node:http"

interface Delivery {
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

/** A webhook receiver on 127.0.0.1 answering with `statuses` in turn (the last one repeats). */
const receiver = (statuses: ReadonlyArray<number>) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly received: Array<Delivery>; readonly close: () => void }>(
      (resume) => {
        const received: Array<Delivery> = []
        const server = createServer((req, res) => {
          let body = ""
          req.setEncoding("utf8")
          req.on("data", (chunk: string) => (body += chunk))
          req.on("end", () => {
            received.push({ headers: req.headers, body })
            res.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)]!
            res.end()
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resume(Effect.succeed({
            url: `http://127.0.0.1:${port}/hooks`,
            received,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          }))
        })
      }
    ),
    (r) => Effect.sync(r.close)
  )

/** The Standard Webhooks check, written independently of the sandbox's signer. */
const verify = (secret: string, delivery: Delivery): boolean => {
  const id = delivery.headers["webhook-id"] as string
  const timestamp = delivery.headers["webhook-timestamp"] as string
  const expected = createHmac("sha256", Buffer.from(secret.split("_")[1]!, "base64"))
    .update(`${id}.${timestamp}.${delivery.body}`)
    .digest()
  const signatures = (delivery.headers["webhook-signature"] as string).split(" ")
  return signatures.some((s) => {
    const [version, value] = s.split(",")
    const given = Buffer.from(value ?? "", "base64")
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected)
  })
}

const call = (method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown, raw?: string) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(sandbox.baseUrl + path).pipe(
      HttpClientRequest.setHeader("x-api-key", Sandbox.defaultClient.apiKey)
    )
    if (body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, body)
    if (raw !== undefined) request = HttpClientRequest.bodyText(request, raw, "application/json")
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, json: text === "" ? undefined : JSON.parse(text) }
  }).pipe(Effect.scoped, Effect.orDie)

const stats = Effect.flatMap(Sandbox.Sandbox, (s) => s.stats)

/** Waits (bounded) for deliveries to happen over real sockets; never asserts on elapsed time. */
const until = (check: () => Effect.Effect<boolean, never, Sandbox.Sandbox>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      if (yield* check()) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.die("the expected deliveries never happened")
  })

const withSandbox = (options: Sandbox.Options = {}) =>
  Effect.provide(Layer.mergeAll(Sandbox.layer(options), NodeHttpClient.layerUndici))

const secret = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`

describe("Sandbox webhooks", () => {
  it.scoped("delivers Standard Webhooks-signed events for created, updated and deleted projects", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2025, 0, 1))
      const hooks = yield* receiver([204])
      const registered = yield* call("POST", "/v1/webhook-endpoints", { url: hooks.url, secret })
      expect(registered.status).toBe(201)
      expect(registered.json).toEqual({ id: "we_1", url: hooks.url, secret })

      yield* call("POST", "/v1/projects", { name: "Apollo" })
      yield* until(() => Effect.succeed(hooks.received.length === 1))
      yield* call("PATCH", "/v1/projects/prj_1", { status: "archived" })
      yield* until(() => Effect.succeed(hooks.received.length === 2))
      yield* call("DELETE", "/v1/projects/prj_1")
      yield* until(() => Effect.map(stats, (s) => s.webhooks.delivered === 3))

      const events = hooks.received.map((d) => JSON.parse(d.body))
      expect(events.map((e) => e.type)).toEqual(["project.created", "project.updated", "project.deleted"])
      expect(events[1].data).toMatchObject({ id: "prj_1", status: "archived" })
      expect(events[0].timestamp).toBe("2025-01-01T00:00:00.000Z")
      for (const delivery of hooks.received) {
        expect(verify(secret, delivery)).toBe(true)
        expect(delivery.headers["content-type"]).toBe("application/json")
        expect(delivery.headers["webhook-timestamp"]).toBe(String(Date.UTC(2025, 0, 1) / 1000))
      }
      expect(new Set(hooks.received.map((d) => d.headers["webhook-id"])).size).toBe(3)
      // A tampered body does not verify.
      expect(verify(secret, { ...hooks.received[0]!, body: hooks.received[0]!.body.replace("Apollo", "Gemini") }))
        .toBe(false)
      expect((yield* stats).webhooks).toEqual({ delivered: 3, failedAttempts: 0, abandoned: 0 })
    }).pipe(withSandbox()))

  it.scoped("retries a failed delivery on the sandbox's Clock with the same id and a fresh signature", () =>
    Effect.gen(function*() {
      const hooks = yield* receiver([500, 200])
      yield* call("POST", "/v1/webhook-endpoints", { url: hooks.url, secret })
      yield* call("POST", "/v1/projects", { name: "Apollo" })
      yield* until(() => Effect.map(stats, (s) => s.webhooks.failedAttempts === 1))
      expect(hooks.received.length).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* until(() => Effect.map(stats, (s) => s.webhooks.delivered === 1))
      const [first, second] = hooks.received
      expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"])
      expect(second!.headers["webhook-timestamp"]).toBe("2")
      expect(second!.headers["webhook-signature"]).not.toBe(first!.headers["webhook-signature"])
      expect(verify(secret, second!)).toBe(true)
      expect((yield* stats).webhooks).toEqual({ delivered: 1, failedAttempts: 1, abandoned: 0 })
    }).pipe(withSandbox({ webhooks: { retryBase: "2 seconds" } })))

  it.scoped("gives up after the last attempt, with exponential backoff between attempts", () =>
    Effect.gen(function*() {
      const hooks = yield* receiver([503])
      yield* call("POST", "/v1/webhook-endpoints", { url: hooks.url, secret })
      yield* call("POST", "/v1/projects", { name: "Apollo" })
      yield* until(() => Effect.succeed(hooks.received.length === 1))
      yield* TestClock.adjust("1 second")
      yield* until(() => Effect.succeed(hooks.received.length === 2))
      yield* TestClock.adjust("1 second") // the next wait is 2 seconds: nothing yet
      yield* TestClock.adjust("1 second")
      yield* until(() => Effect.map(stats, (s) => s.webhooks.abandoned === 1))
      expect(hooks.received.length).toBe(3)
      expect((yield* stats).webhooks).toEqual({ delivered: 0, failedAttempts: 3, abandoned: 1 })
    }).pipe(withSandbox({ webhooks: { maxAttempts: 3 } })))

  it.scoped("counts an unreachable receiver as a failed attempt", () =>
    Effect.gen(function*() {
      const hooks = yield* receiver([204])
      hooks.close() // nothing listens on that port any more
      yield* call("POST", "/v1/webhook-endpoints", { url: hooks.url })
      yield* call("POST", "/v1/projects", { name: "Apollo" })
      yield* until(() => Effect.map(stats, (s) => s.webhooks.abandoned === 1))
      expect((yield* stats).webhooks.failedAttempts).toBe(1)
    }).pipe(withSandbox({ webhooks: { maxAttempts: 1 } })))

  it.effect("validates endpoints, generates secrets from the seeded Random, lists without secrets", () =>
    Effect.gen(function*() {
      expect((yield* call("POST", "/v1/webhook-endpoints", { url: "https://example.com/hooks" })).status).toBe(422)
      expect((yield* call("POST", "/v1/webhook-endpoints", { url: "ftp://127.0.0.1/x" })).status).toBe(422)
      expect((yield* call("POST", "/v1/webhook-endpoints", { url: "not a url" })).status).toBe(422)
      const badSecret = yield* call("POST", "/v1/webhook-endpoints", { url: "http://127.0.0.1:9/", secret: "short" })
      expect(badSecret.status).toBe(422)
      expect(badSecret.json.errors[0].field).toBe("secret")
      expect((yield* call("POST", "/v1/webhook-endpoints", undefined, "[1]")).status).toBe(400)

      const created = yield* call("POST", "/v1/webhook-endpoints", { url: "http://localhost:9/hooks" })
      expect(created.status).toBe(201)
      expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/)
      const again = yield* call("POST", "/v1/webhook-endpoints", { url: "http://localhost:9/hooks" }).pipe(
        withSandbox({ seed: 1 })
      )
      expect(again.json.secret).toBe(created.json.secret)

      expect((yield* call("GET", "/v1/webhook-endpoints")).json).toEqual({
        data: [{ id: "we_1", url: "http://localhost:9/hooks" }]
      })
      expect((yield* call("DELETE", "/v1/webhook-endpoints/we_1")).status).toBe(204)
      expect((yield* call("DELETE", "/v1/webhook-endpoints/we_1")).status).toBe(404)
    }).pipe(withSandbox({ seed: 1 })))
})
