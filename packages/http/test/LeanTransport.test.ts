/**
 * Over an unwrapped UndiciHttpClient, ApiClient runs each attempt straight over
 * undici and, when debug logging is off, makes the attempt span without making
 * it the current parent. The spans must look the same as on the generic path.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Capture } from "@apikit/testing"
import { listen } from "@apikit/testing/LocalServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"

const server = listen((req, res) => {
  if (req.url === "/missing") {
    res.writeHead(404, { "content-type": "application/json" })
    return void res.end("{\"message\":\"no\"}")
  }
  res.writeHead(200, { "content-type": "application/json" })
  res.end("{\"ok\":true}")
})

describe("ApiClient over the lean UndiciHttpClient", () => {
  for (const level of [LogLevel.Info, LogLevel.Debug]) {
    it.scoped(`records apikit.call and apikit.attempt (status, parent) with ${level.label} logging`, () =>
      Effect.gen(function*() {
        const baseUrl = yield* server
        const api = yield* ApiClient.make({ baseUrl })
        expect(yield* api.get("/ok")).toEqual({ ok: true })
        const error = yield* Effect.flip(api.get("/missing"))
        expect(error._tag).toBe("NotFound")
        const capture = yield* Capture.Capture
        expect(capture.spans.map((s) => [s.name, s.parent])).toEqual([
          ["apikit.call", undefined],
          ["apikit.attempt", "apikit.call"],
          ["apikit.call", undefined],
          ["apikit.attempt", "apikit.call"]
        ])
        const attempts = capture.spans.filter((s) => s.name === "apikit.attempt")
        expect(attempts.map((s) => s.attributes.get("http.response.status_code"))).toEqual([200, 404])
        expect(attempts.map((s) => s.attributes.get("apikit.attempt"))).toEqual([1, 1])
        expect(capture.logs.some((l) => String(l.message).includes("apikit attempt"))).toBe(level === LogLevel.Debug)
      }).pipe(
        Logger.withMinimumLogLevel(level),
        Effect.provide(Layer.merge(UndiciHttpClient.layer, Capture.layer))
      ))
  }
})
