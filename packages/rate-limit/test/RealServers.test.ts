/**
 * Adaptive mode against real rate-limited server software, in process on
 * 127.0.0.1: express-rate-limit (draft-8, draft-7, draft-6 with legacy
 * headers) and @fastify/rate-limit, each allowing LIMIT requests per 1 s
 * window. Real time cannot be avoided here (the servers read Date.now), so
 * each case is four 1 s windows. Throughput is measured in `pnpm bench rate-limit`.
 */
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Servers from "./support/servers.js"

const LIMIT = 10
const WINDOW = 1000
const CALLS = 40

const serve = (kind: Servers.Kind) =>
  Effect.acquireRelease(Effect.promise(() => Servers.start(kind, LIMIT, WINDOW)), (s) => Effect.promise(s.close))

/** CALLS GETs at concurrency LIMIT; the outcome of each, and the wall time they took. */
const run = (url: string, options: Partial<RateLimit.Options>) =>
  Effect.gen(function*() {
    const api = yield* ApiClient.make({
      baseUrl: url,
      rateLimit: yield* RateLimit.make({ limit: 10 * LIMIT, window: "1 second", adaptive: true, ...options }),
      retry: Retry.transient({ times: 5, base: "100 millis" })
    })
    // Open the connections first (an unlimited, uncounted route), so the first window is not connection setup.
    const warm = yield* ApiClient.make({ baseUrl: url })
    yield* Effect.forEach(Array.from({ length: 2 * LIMIT }), () => warm.get("/warm"), { concurrency: LIMIT })
    const outcomes = yield* Effect.forEach(
      Array.from({ length: CALLS }),
      () => api.get("/v1/items").pipe(Effect.as("ok"), Effect.catchAll((e) => Effect.succeed(e._tag))),
      { concurrency: LIMIT }
    )
    return outcomes
  }).pipe(Effect.provide(Layer.merge(NodeHttpClient.layerUndici, RateLimit.layerMemory)))

describe.each(Servers.kinds)("adaptive mode against %s (10 req/s, client configured 100/s)", (kind) => {
  it.live(
    "no 429 after the first window, every call succeeds, no window is over the server's limit",
    () =>
      Effect.gen(function*() {
        const server = yield* serve(kind)
        const outcomes = yield* run(server.url, {})
        const first = Math.min(...server.arrivals)
        expect(outcomes).toEqual(Array(CALLS).fill("ok"))
        const late429 = server.refused.filter((t) => t >= first + WINDOW).length
        // ≤ 1% of the calls: with 40 calls, none.
        expect(late429).toBeLessThanOrEqual(Math.floor(CALLS / 100))
        // Server-observed rate: accepted requests over the windows they took (the last one whole).
        // The 0.9x target is measured by `pnpm bench rate-limit` (timing targets live in benchmarks);
        // this only catches a limiter that sits out whole windows.
        const accepted = server.arrivals.length - server.refused.length
        const span = Math.max(...server.arrivals) - first + WINDOW
        expect(accepted / (span / 1000)).toBeGreaterThanOrEqual(0.6 * LIMIT)
        expect(Servers.maxPerWindow(server.arrivals, WINDOW)).toBeLessThanOrEqual(LIMIT)
      }).pipe(Effect.scoped),
    20_000
  )
})

describe("configured limit lower than the server's", () => {
  it.live(
    "the configured limit holds in every server window (express-rate-limit draft-8)",
    () =>
      Effect.gen(function*() {
        const server = yield* serve("express-draft-8")
        const outcomes = yield* run(server.url, { limit: LIMIT / 2 })
        expect(outcomes).toEqual(Array(CALLS).fill("ok"))
        expect(server.refused).toEqual([])
        expect(Servers.maxPerWindow(server.arrivals, WINDOW)).toBeLessThanOrEqual(LIMIT / 2)
      }).pipe(Effect.scoped),
    20_000
  )
})
