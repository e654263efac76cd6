/**
 * Binary results (`api.bytes`) and streamed downloads (`api.stream`) against
 * servers on 127.0.0.1: node:http for the byte-exact and hostile cases
 * (backpressure, a reset mid-body, an early close), fastify with
 * @fastify/compress for a compressed stream. The pipeline around a stream
 * (retries before the first byte, auth, the limiter, the breaker, streamed
 * uploads that are never sent twice) is in reliability/test/streaming.test.ts.
 */
import { ApiClient, ApiError } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import FastifyCompress from "@fastify/compress"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import Fastify from "fastify"
import type * as Http from "node:http"
import { Readable } from "node:stream"
import * as Zlib from "node:zlib"

const MiB = 1024 * 1024

/** `size` bytes of a pattern that covers every byte value (a text decode would corrupt it). */
const pattern = (size: number, offset = 0): Buffer => {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = (i + offset) * 7 % 256
  return out
}

const block = pattern(MiB)

/** Writes `total` bytes of the pattern honouring backpressure; records how the response ended. */
const serve = (res: Http.ServerResponse, total: number, seen: { written: number; closed: boolean }) => {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) })
  res.on("close", () => (seen.closed = true))
  const next = () => {
    while (seen.written < total) {
      const part = block.subarray(0, Math.min(block.length, total - seen.written))
      seen.written += part.length
      if (!res.write(part)) return void res.once("drain", next)
    }
    res.end()
  }
  next()
}

interface Seen {
  written: number
  closed: boolean
  requests: number
  authorization: Array<string | undefined>
}

const server = Effect.gen(function*() {
  const seen: Seen = { written: 0, closed: false, requests: 0, authorization: [] }
  const url = yield* listen((req, res) => {
    seen.requests++
    seen.authorization.push(req.headers.authorization)
    const path = req.url ?? "/"
    if (path === "/bytes") {
      res.writeHead(200, { "content-type": "application/octet-stream" })
      return res.end(pattern(300_000, 3))
    }
    if (path.startsWith("/big/")) return serve(res, Number(path.slice(5)) * MiB, seen)
    if (path === "/missing") {
      res.writeHead(404, { "content-type": "application/json" })
      return res.end(JSON.stringify({ message: "no such export" }))
    }
    if (path === "/reset") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(4 * MiB) })
      res.write(block)
      return void setTimeout(() => res.socket?.destroy(), 20)
    }
    if (path === "/garbage") {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-encoding": "gzip" })
      const gz = Zlib.gzipSync(pattern(200_000))
      return res.end(Buffer.concat([gz.subarray(0, 5_000), Buffer.from("not gzip at all, not at all")]))
    }
    res.writeHead(404)
    res.end()
  })
  return { url, seen }
})

/** Collects a stream's chunks into one buffer. */
const collect = (body: Stream.Stream<Uint8Array, ApiError.ApiError>) =>
  Effect.map(Stream.runCollect(body), (chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)))

const transports = [
  ["apikit's UndiciHttpClient", UndiciHttpClient.layer],
  ["the platform's NodeHttpClient (undici)", NodeHttpClient.layerUndici],
  ["the platform's FetchHttpClient", FetchHttpClient.layer]
] as const

describe.each(transports)("downloads over %s", (_name, transport) => {
  it.scoped("bytes: a binary body comes back byte for byte", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const api = yield* ApiClient.make({ baseUrl: url })
      const bytes = yield* api.bytes("GET", "/bytes")
      expect(bytes).toBeInstanceOf(Uint8Array)
      expect(Buffer.from(bytes).equals(pattern(300_000, 3))).toBe(true)
      // The same through a success Schema of bytes (what generated clients declare for binary answers).
      const viaSchema = yield* api.get("/bytes", { success: Schema.Uint8ArrayFromSelf })
      expect(Buffer.from(viaSchema).equals(pattern(300_000, 3))).toBe(true)
    }).pipe(Effect.provide(transport)))

  it.scoped("stream: 24 MiB arrive intact, past maxResponseBytes", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server
      const api = yield* ApiClient.make({
        baseUrl: url,
        maxResponseBytes: MiB,
        headers: { authorization: "Bearer t0ken" }
      })
      const response = yield* api.stream("GET", "/big/24")
      expect(response.status).toBe(200)
      expect(response.headers["content-length"]).toBe(String(24 * MiB))
      const size = yield* Stream.runFold(response.body, 0, (n, chunk) => {
        // Spot-check the bytes as they pass: each MiB repeats the pattern.
        const at = n % MiB
        if (chunk[0] !== block[at]) throw new Error(`byte ${n} differs`)
        return n + chunk.length
      })
      expect(size).toBe(24 * MiB)
      expect(seen.authorization).toEqual(["Bearer t0ken"])
    }).pipe(Effect.provide(transport)))

  it.scoped("stream: a 404 is the call's typed error, with the error body's message", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const api = yield* ApiClient.make({ baseUrl: url })
      const error = yield* Effect.flip(api.stream("GET", "/missing"))
      expect(error._tag).toBe("NotFound")
      expect(error.message).toContain("no such export")
    }).pipe(Effect.provide(transport)))

  it.scoped("stream: a connection reset mid-body fails the stream after the bytes before it", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const api = yield* ApiClient.make({ baseUrl: url })
      let received = 0
      const result = yield* api.stream("GET", "/reset").pipe(
        Effect.flatMap((r) => Stream.runForEach(r.body, (chunk) => Effect.sync(() => (received += chunk.length)))),
        Effect.either
      )
      expect(Either.isLeft(result)).toBe(true)
      expect(ApiError.isApiError(Either.isLeft(result) ? result.left : undefined)).toBe(true)
      expect(received).toBe(MiB)
    }).pipe(Effect.provide(transport)))
})

// Backpressure and early close, on the transports that read the socket as the consumer asks
// (fetch buffers ahead on its own terms).
describe.each(transports.slice(0, 2))("bounded downloads over %s", (_name, transport) => {
  it.scoped("a consumer that stops reading stops the server: most of a 64 MiB body is never sent", () =>
    Effect.gen(function*() {
      const { seen, url } = yield* server
      const api = yield* ApiClient.make({ baseUrl: url })
      yield* Effect.scoped(Effect.gen(function*() {
        const response = yield* api.stream("GET", "/big/64")
        // Take one chunk, then let the server run into the full pipe.
        yield* Stream.runHead(response.body)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 300)))
        // Socket buffers on both ends plus apikit's 256 KiB: a few MiB, nowhere near 64.
        expect(seen.written).toBeLessThan(24 * MiB)
      }))
      // The scope closed the unfinished body's connection.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      expect(seen.closed).toBe(true)
      expect(seen.written).toBeLessThan(64 * MiB)
    }).pipe(Effect.provide(transport)))
})

describe("compressed downloads (fastify + @fastify/compress)", () => {
  const fastify = Effect.acquireRelease(
    Effect.promise(async () => {
      const app = Fastify()
      await app.register(FastifyCompress, { global: true, threshold: 512 })
      app.get("/export", async (_request, reply) => {
        reply.header("content-type", "text/csv")
        // 200,000 CSV rows, written 1,000 to a chunk.
        const blocks = Array.from({ length: 200 }, (_, b) =>
          Array.from({ length: 1_000 }, (_, j) => {
            const i = b * 1_000 + j
            return `${i},item-${i},${i % 7 === 0}\n`
          }).join(""))
        return reply.send(Readable.from(blocks))
      })
      const url = await app.listen({ port: 0, host: "127.0.0.1" })
      return { app, url }
    }),
    ({ app }) => Effect.promise(() => app.close())
  )

  it.scoped("a compressed stream is decoded as it arrives", () =>
    Effect.gen(function*() {
      const { url } = yield* fastify
      const api = yield* ApiClient.make({ baseUrl: url })
      const response = yield* api.stream("GET", "/export")
      expect(["br", "gzip", "deflate"]).toContain(response.headers["content-encoding"])
      const text = (yield* collect(response.body)).toString("utf8")
      const lines = text.split("\n")
      expect(lines.length).toBe(200_001)
      expect(lines[123_456]).toBe("123456,item-123456,false")
    }).pipe(Effect.provide(UndiciHttpClient.layer)))

  it.scoped("compressed garbage fails the stream with DecodeError naming the encoding", () =>
    Effect.gen(function*() {
      const { url } = yield* server
      const api = yield* ApiClient.make({ baseUrl: url })
      const error = yield* Effect.flip(Effect.flatMap(api.stream("GET", "/garbage"), (r) => collect(r.body)))
      expect(error._tag).toBe("DecodeError")
      expect(error._tag === "DecodeError" && error.reason).toBe("InvalidEncoding")
      expect(error.message).toContain("gzip")
    }).pipe(Effect.provide(UndiciHttpClient.layer)))
})
