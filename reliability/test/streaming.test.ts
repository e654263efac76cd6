/**
 * Streams through the whole pipeline, against a node:http server on
 * 127.0.0.1: `api.stream` takes a credential, a limiter permit and a breaker
 * slot per attempt and is retried before its first body byte; a streamed
 * request body is sent once and never again. (Transport-level stream cases
 * are in packages/http/test/Downloads.test.ts.)
 */
import { Auth } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { LocalServer } from "@apikit/testing"
import * as HttpBody from "@effect/platform/HttpBody"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Stream } from "effect"

interface Seen {
  readonly requests: Array<{ path: string; authorization: string | undefined; bytes: number }>
}

const MiB = 1024 * 1024

/** Answers 503 to the first request of each path, then the real answer. */
const server = Effect.gen(function*() {
  const seen: Seen = { requests: [] }
  const url = yield* LocalServer.listen((req, res) => {
    let bytes = 0
    req.on("data", (c: Buffer) => (bytes += c.length))
    req.on("end", () => {
      const path = req.url ?? "/"
      const first = !seen.requests.some((r) => r.path === path)
      seen.requests.push({ path, authorization: req.headers.authorization, bytes })
      if (first) {
        res.writeHead(503)
        return res.end("busy")
      }
      res.writeHead(200, { "content-type": "application/octet-stream" })
      res.end(Buffer.alloc(3 * MiB, 9))
    })
  })
  return { seen, url }
})

const client = (url: string) =>
  Effect.gen(function*() {
    return yield* ApiClient.make({
      baseUrl: url,
      auth: Auth.bearer(Redacted.make("stream-token")),
      rateLimit: yield* RateLimit.make({ limit: 100, window: "1 second" }),
      circuitBreaker: yield* CircuitBreaker.make(),
      retry: Retry.transient({ times: 2, base: "5 millis", jitter: "none", retryNonIdempotent: true })
    })
  })

const layers = Layer.mergeAll(UndiciHttpClient.layer, RateLimit.layerMemory, CircuitBreakerStore.layerMemory)

describe("streams through the pipeline", () => {
  it.live("a download is retried before its first byte, each attempt with the credential", () =>
    Effect.scoped(Effect.gen(function*() {
      const { seen, url } = yield* server
      const api = yield* client(url)
      const response = yield* api.stream("GET", "/export")
      const size = yield* Stream.runFold(response.body, 0, (n, chunk) => n + chunk.length)
      expect(size).toBe(3 * MiB)
      expect(seen.requests.map((r) => r.authorization)).toEqual(["Bearer stream-token", "Bearer stream-token"])
    })).pipe(Effect.provide(layers)))

  it.live("a streamed upload is sent once: the 503 after it is the caller's, not retried", () =>
    Effect.scoped(Effect.gen(function*() {
      const { seen, url } = yield* server
      const api = yield* client(url)
      const parts = Stream.range(1, 64).pipe(Stream.map(() => new Uint8Array(16 * 1024).fill(1)))
      const error = yield* Effect.flip(api.post("/upload", { rawBody: HttpBody.stream(parts, "text/csv") }))
      expect(error._tag).toBe("ServerError")
      expect(error.message).toContain("503")
      expect(seen.requests).toEqual([{ path: "/upload", authorization: "Bearer stream-token", bytes: 64 * 16 * 1024 }])
    })).pipe(Effect.provide(layers)))

  it.live("the same upload as bytes is retried (a buffered body can be sent again)", () =>
    Effect.scoped(Effect.gen(function*() {
      const { seen, url } = yield* server
      const api = yield* client(url)
      const result = yield* api.bytes("POST", "/upload-buffered", {
        rawBody: HttpBody.uint8Array(new Uint8Array(64 * 16 * 1024).fill(1), "text/csv")
      })
      expect(result.length).toBe(3 * MiB)
      expect(seen.requests.map((r) => r.bytes)).toEqual([64 * 16 * 1024, 64 * 16 * 1024])
    })).pipe(Effect.provide(layers)))
})
