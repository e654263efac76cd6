/**
 * The same client over a real socket: a node:http server on 127.0.0.1 (port 0)
 * and the platform's undici transport. No timing assertions here; timing is
 * tested with TestClock over MockHttp.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Schema, TestClock } from "effect"

const Item = Schema.Struct({ id: Schema.Number, echo: Schema.String })

const server = listen((req, res) => {
  const url = new URL(req.url!, "http://x")
  if (url.pathname === "/items/7") {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "x-request-id": "r-7" })
      res.end(JSON.stringify({ id: 7, echo: body }))
    })
  } else if (url.pathname === "/limited") {
    res.writeHead(429, { "retry-after": "12", "ratelimit": "limit=5, remaining=0, reset=12" })
    res.end()
  } else if (url.pathname === "/huge") {
    // Chunked, no Content-Length: the client must stop reading at its limit.
    res.writeHead(200, { "content-type": "application/json" })
    const chunk = "x".repeat(64 * 1024)
    let sent = 0
    const write = () => {
      while (sent < 64 && res.write(chunk)) sent++
      if (sent < 64) res.once("drain", write)
      else res.end()
    }
    write()
  } else {
    res.writeHead(404, { "content-type": "application/json" })
    res.end(JSON.stringify({ message: "no such route" }))
  }
})

const transports = [
  ["the platform's NodeHttpClient", NodeHttpClient.layerUndici],
  ["apikit's lean UndiciHttpClient", UndiciHttpClient.layer]
] as const

describe.each(transports)("ApiClient over a real server on 127.0.0.1 with %s", (_name, transport) => {
  it.scoped("sends, receives, decodes, and classifies real responses", () =>
    Effect.gen(function*() {
      const baseUrl = yield* server
      const api = yield* ApiClient.make({ baseUrl, maxResponseBytes: 256 * 1024 })
      const item = yield* api.put("/items/:id", { params: { id: 7 }, body: { hello: "world" }, success: Item })
      expect(item).toEqual({ id: 7, echo: "{\"hello\":\"world\"}" })

      const limited = yield* Effect.flip(api.get("/limited"))
      expect(limited._tag).toBe("RateLimited")
      expect(limited._tag === "RateLimited" && limited.rateLimit?.limit).toBe(5)

      const missing = yield* Effect.flip(api.get("/nope"))
      expect(missing._tag).toBe("NotFound")
      expect(missing._tag === "NotFound" && missing.body).toContain("no such route")

      const huge = yield* Effect.flip(api.get("/huge"))
      expect(huge._tag).toBe("ResponseTooLarge")
    }).pipe(Effect.provide(transport)))

  it.scoped("reads bodies the same way: many chunks, 1xx first, HEAD, declared too large, reset mid-body", () =>
    Effect.gen(function*() {
      const big = { items: Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `item-${i}` })) }
      const closed = yield* Deferred.make<void>()
      const baseUrl = yield* listen((req, res) => {
        switch (req.url) {
          case "/big": {
            // ~150 KB in 4 KB writes, chunked: the client reassembles many chunks.
            const text = JSON.stringify(big)
            res.writeHead(200, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"] })
            for (let i = 0; i < text.length; i += 4096) res.write(text.slice(i, i + 4096))
            return void res.end()
          }
          case "/early-hints":
            res.writeEarlyHints({ link: "</style.css>; rel=preload" })
            res.writeHead(200, { "content-type": "application/json" })
            return void res.end("{\"final\":true}")
          case "/declared-too-large":
            // Says 10 MB, sends a little, keeps the socket open: the client must not wait for the rest.
            req.socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
            res.writeHead(200, { "content-type": "application/json", "content-length": String(10 * 1024 * 1024) })
            return void res.write("{")
          case "/reset":
            res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
            res.write("{\"partial\":")
            return void setImmediate(() => req.socket.destroy())
          default:
            res.writeHead(200, { "content-type": "application/json", "content-length": "13" })
            return void res.end(req.method === "HEAD" ? undefined : "{\"head\":false}")
        }
      })
      const api = yield* ApiClient.make({ baseUrl, maxResponseBytes: 1024 * 1024 })
      const exchange = yield* api.exchange("GET", "/big")
      expect(exchange.value).toEqual(big)
      expect(exchange.headers["set-cookie"]).toBe("a=1, b=2")
      expect(yield* api.get("/early-hints")).toEqual({ final: true })
      expect(yield* api.request("HEAD", "/head")).toBeUndefined()

      const tooLarge = yield* Effect.flip(api.get("/declared-too-large"))
      expect(tooLarge._tag).toBe("ResponseTooLarge")
      yield* Deferred.await(closed)

      const reset = yield* Effect.flip(api.get("/reset"))
      expect(reset._tag).toBe("Transport")
    }).pipe(Effect.provide(transport)))

  it.scoped("reports a refused connection as Transport(ConnectionRefused)", () =>
    Effect.gen(function*() {
      // Take a free port, then close it: nothing listens there any more.
      const baseUrl = yield* Effect.scoped(server)
      const api = yield* ApiClient.make({ baseUrl })
      const error = yield* Effect.flip(api.get("/items/7"))
      expect(error._tag).toBe("Transport")
      expect(error._tag === "Transport" && error.reason).toBe("ConnectionRefused")
      expect(error.message).toContain("127.0.0.1")
    }).pipe(Effect.provide(transport)))

  it.scoped("aborts the socket when an attempt times out", () =>
    Effect.gen(function*() {
      const arrived = yield* Deferred.make<void>()
      const closed = yield* Deferred.make<void>()
      const baseUrl = yield* listen((req) => {
        // Never answers; tells the test when the request arrived and when the client gave up.
        Deferred.unsafeDone(arrived, Exit.void)
        req.socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
      })
      const api = yield* ApiClient.make({ baseUrl, timeout: { attempt: "5 seconds" } })
      const fiber = yield* Effect.fork(Effect.flip(api.get("/hang")))
      yield* Deferred.await(arrived)
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("Timeout")
      // The server sees the socket close: the timeout aborted the request, it did not leak it.
      yield* Deferred.await(closed)
    }).pipe(Effect.provide(transport)))
})
