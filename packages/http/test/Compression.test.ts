/**
 * Compressed responses from real server software (fastify with
 * @fastify/compress) on 127.0.0.1, over every transport apikit ships or
 * documents, plus the hostile cases: a decompression bomb, compressed garbage,
 * an unknown coding.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import FastifyCompress from "@fastify/compress"
import { Effect } from "effect"
import Fastify from "fastify"
import * as Zlib from "node:zlib"

const items = Array.from({ length: 600 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ["a", "b"], active: true }))

/** fastify + @fastify/compress on 127.0.0.1; records what each request asked for and sent. */
const fastify = Effect.acquireRelease(
  Effect.promise(async () => {
    const seen: Array<{ acceptEncoding: string | undefined; body: unknown }> = []
    const app = Fastify()
    await app.register(FastifyCompress, { global: true, threshold: 512 })
    app.get("/items", async () => items)
    app.post("/echo", async (request) => {
      seen.push({ acceptEncoding: request.headers["accept-encoding"], body: request.body })
      return { got: request.body }
    })
    app.addHook("onRequest", async (request) => {
      if (request.url === "/items") seen.push({ acceptEncoding: request.headers["accept-encoding"], body: null })
    })
    // @fastify/compress also decompresses request bodies sent with content-encoding.
    const url = await app.listen({ port: 0, host: "127.0.0.1" })
    return { app, url, seen }
  }),
  ({ app }) => Effect.promise(() => app.close())
)

// 32 MiB of zeros is ~32 KB of gzip: the limit applies to what it decodes to. Made once, outside any test's time.
const bomb = Zlib.gzipSync(Buffer.alloc(32 * 1024 * 1024))

const transports = [
  ["apikit's UndiciHttpClient", UndiciHttpClient.layer],
  ["the platform's NodeHttpClient (undici)", NodeHttpClient.layerUndici],
  ["the platform's FetchHttpClient", FetchHttpClient.layer]
] as const

describe.each(transports)("compressed responses over %s", (_name, transport) => {
  it.scoped("asks for gzip, deflate and br and decodes what fastify/compress sends", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* fastify
      const api = yield* ApiClient.make({ baseUrl: url })
      const exchange = yield* api.exchange("GET", "/items")
      expect(exchange.value).toEqual(items)
      expect(["br", "gzip", "deflate"]).toContain(exchange.headers["content-encoding"])
      expect(seen[0]!.acceptEncoding).toMatch(/gzip, deflate, br/)

      // A gzipped request body, per call.
      const echoed = yield* api.post("/echo", { body: { hello: "world" }, compress: "gzip" })
      expect(echoed).toEqual({ got: { hello: "world" } })
    }).pipe(Effect.provide(transport)))

  it.scoped("a decompression bomb stops at maxResponseBytes; garbage and unknown codings are DecodeErrors", () =>
    Effect.gen(function*() {
      const baseUrl = yield* listen((req, res) => {
        switch (req.url) {
          case "/bomb":
            res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" })
            return void res.end(bomb)
          case "/garbage":
            res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" })
            return void res.end("this is not gzip at all")
          default:
            res.writeHead(200, { "content-type": "application/json", "content-encoding": "x-custom" })
            return void res.end("{}")
        }
      })
      const api = yield* ApiClient.make({ baseUrl, maxResponseBytes: 1024 * 1024 })
      const tooLarge = yield* Effect.flip(api.get("/bomb"))
      expect(tooLarge._tag).toBe("ResponseTooLarge")

      const garbage = yield* Effect.flip(api.get("/garbage"))
      if (transport === FetchHttpClient.layer) {
        // fetch decodes by itself and fails the body stream: a Transport error.
        expect(["Transport", "DecodeError"]).toContain(garbage._tag)
      } else {
        expect(garbage._tag === "DecodeError" && garbage.reason).toBe("InvalidEncoding")
        expect(garbage.message).toContain("gzip")
      }
      const unknown = yield* Effect.flip(api.get("/unknown"))
      expect(unknown._tag).toBe("DecodeError")
      expect(unknown.message).toContain("x-custom")
    }).pipe(Effect.provide(transport)))
})
