/**
 * What the cache stage costs and saves, through the same full pipeline the
 * HTTP benchmark runs (OAuth 2.0 client credentials, limiter, breaker,
 * transient retry, attempt and total timeouts, a Schema-decoded body) over
 * apikit's UndiciHttpClient, against the node:http server of `bench/http` in
 * another process. Client CPU per call (this process, GC included) and calls
 * per second; every candidate once per round, interleaved, median round.
 *
 * - uncached: the pipeline without a cache stage, `Cache-Control: no-store`
 * - miss: the same with the cache stage (nothing may be stored: the stage's
 *   lookup, key, coalescing and decision on every call); again with
 *   `coalesce: false`, which sends from the caller's fiber
 * - miss, stored: `max-age=0` without a validator, so every call is sent and
 *   its response stored again
 * - 304: `no-cache` with an ETag, so every call is a revalidation answered 304
 * - fresh hit: `max-age=3600`, answered from the memory store
 */
import type { Effect as E } from "effect"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { workerFibers } from "./http/workers.js"

const here = fileURLToPath(new URL(".", import.meta.url))
const N = Number(process.env["CACHE_CALLS"] ?? 4_000)
const ROUNDS = Number(process.env["CACHE_ROUNDS"] ?? 7)
const CONCURRENCY = 16

interface Result {
  readonly cpuUs: number
  readonly rps: number
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export async function run(): Promise<string> {
  const server = spawn(process.execPath, [`${here}/http/server.mjs`], { stdio: ["ignore", "pipe", "inherit"] })
  const [chunk] = (await once(server.stdout!, "data")) as [Buffer]
  const origin = `http://127.0.0.1:${chunk.toString().trim()}`
  try {
    const undici = await import("undici")
    undici.setGlobalDispatcher(new undici.Agent({ connections: 128 }))
    const { Effect, Layer, ManagedRuntime, Redacted, Schema } = await import("effect")
    const { ApiClient } = await import("@apikit/http")
    const UndiciHttpClient = await import("@apikit/http/UndiciHttpClient")
    const { OAuth2, TokenStore } = await import("@apikit/auth")
    const { RateLimit } = await import("@apikit/rate-limit")
    const { CircuitBreaker, CircuitBreakerStore } = await import("@apikit/circuit-breaker")
    const { Retry } = await import("@apikit/retry")
    const { Cache, CacheStore } = await import("@apikit/cache")
    const Project = Schema.Struct({
      id: Schema.String,
      name: Schema.String,
      tags: Schema.Array(Schema.String),
      active: Schema.Boolean,
      count: Schema.Number
    })
    const runtime = ManagedRuntime.make(
      Layer.mergeAll(
        UndiciHttpClient.layer,
        TokenStore.layerMemory,
        RateLimit.layerMemory,
        CircuitBreakerStore.layerMemory,
        CacheStore.layerMemory
      )
    )
    const client = (cached: boolean, coalesce = true) =>
      runtime.runPromise(Effect.gen(function*() {
        return yield* ApiClient.make({
          baseUrl: origin,
          auth: yield* OAuth2.clientCredentials({
            tokenUrl: `${origin}/oauth/token`,
            clientId: "bench",
            clientSecret: Redacted.make("bench-secret")
          }),
          rateLimit: yield* RateLimit.make({ limit: 1_000_000_000, window: "1 second" }),
          circuitBreaker: yield* CircuitBreaker.make(),
          retry: Retry.transient(),
          timeout: { attempt: "5 seconds", total: "30 seconds" },
          ...(cached ? { cache: yield* Cache.make({ coalesce }) } : {})
        })
      }))
    const plain = await client(false)
    const withCache = await client(true)
    const solo = await client(true, false)
    // As bench/http drives Effect clients: CONCURRENCY worker fibers, none forked per call.
    const driver = (one: E.Effect<unknown, unknown>) => (n: number) =>
      runtime.runPromise(workerFibers(one, n, CONCURRENCY))
    const candidates: ReadonlyArray<readonly [string, (n: number) => Promise<void>]> = [
      ["uncached (no cache stage)", driver(plain.get("/nostore/p_1", { success: Project }))],
      ["miss (cache stage, nothing storable)", driver(withCache.get("/nostore/p_1", { success: Project }))],
      ["miss, coalesce: false", driver(solo.get("/nostore/p_1", { success: Project }))],
      ["miss, stored again every call (max-age=0)", driver(withCache.get("/stale/p_1", { success: Project }))],
      ["revalidated, 304 (no-cache + ETag)", driver(withCache.get("/etag/p_1", { success: Project }))],
      ["fresh hit (max-age=3600)", driver(withCache.get("/cached/p_1", { success: Project }))]
    ]
    for (const [, go] of candidates) await go(Math.ceil(N / 4)) // warm-up: JIT, pool, token, entries
    const samples = candidates.map(() => ({ cpu: [] as Array<number>, rps: [] as Array<number> }))
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < candidates.length; j++) {
        const i = (j + r) % candidates.length
        const cpu = process.cpuUsage()
        const start = performance.now()
        await candidates[i]![1](N)
        const elapsed = (performance.now() - start) / 1000
        const used = process.cpuUsage(cpu)
        samples[i]!.cpu.push((used.user + used.system) / N)
        samples[i]!.rps.push(N / elapsed)
      }
    }
    await runtime.dispose()

    // The stage on its own, over an in-memory next stage that answers at once: what it adds to a
    // miss, without the HTTP exchange whose CPU swings from run to run on a busy machine.
    const Headers = await import("@effect/platform/Headers")
    const HttpClientRequest = await import("@effect/platform/HttpClientRequest")
    const request = HttpClientRequest.get(`${origin}/nostore/p_1`)
    const context = {
      client: "bench",
      method: "GET" as const,
      url: `${origin}/nostore/p_1`,
      host: new URL(origin).host,
      route: "/nostore/:id",
      idempotent: true,
      replayable: true,
      deadline: undefined,
      attemptTimeout: undefined,
      attempt: 1,
      cost: 1
    }
    const answer = Effect.succeed({
      status: 200,
      headers: Headers.fromInput({ "content-type": "application/json", "cache-control": "no-store" }),
      body: new Uint8Array(74)
    })
    const STAGE_N = 50_000
    const stage = await Effect.runPromise(
      Effect.gen(function*() {
        const out: Array<number> = []
        for (const coalesce of [true, false]) {
          const one = (yield* Cache.make({ coalesce })).wrap(() => answer)(request, context)
          const loop = Effect.gen(function*() {
            for (let i = 0; i < STAGE_N; i++) yield* one
          })
          yield* loop
          const rounds: Array<number> = []
          for (let r = 0; r < 5; r++) {
            const cpu = process.cpuUsage()
            yield* loop
            const used = process.cpuUsage(cpu)
            rounds.push((used.user + used.system) / STAGE_N)
          }
          out.push(median(rounds))
        }
        return out
      }).pipe(Effect.provide(CacheStore.layerMemory))
    )
    const results: Array<Result> = samples.map((s) => ({ cpuUs: median(s.cpu), rps: median(s.rps) }))
    const base = results[0]!
    const pct = (x: number) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`
    const miss = results[1]!.cpuUs / base.cpuUs - 1
    const solo$ = results[2]!.cpuUs / base.cpuUs - 1
    const hit = results[5]!.cpuUs / base.cpuUs
    return [
      "## Cache: the cache stage in the full pipeline",
      "",
      `${N} calls per round at concurrency ${CONCURRENCY} (as many worker fibers, none forked per call), ${ROUNDS} interleaved rounds, the median round; the full pipeline of the HTTP section (OAuth 2.0, limiter, breaker, retry, timeouts, Schema decode) over UndiciHttpClient; client CPU of this process per call.`,
      "",
      "| call | CPU µs/call | vs uncached | calls/s |",
      "| --- | ---: | ---: | ---: |",
      ...candidates.map(([name], i) =>
        `| ${name} | ${results[i]!.cpuUs.toFixed(1)} | ${(results[i]!.cpuUs / base.cpuUs).toFixed(2)}x | ${
          Math.round(results[i]!.rps)
        } |`
      ),
      "",
      `The stage alone on a miss (over an in-memory next stage, ${STAGE_N} calls, median of 5): ${
        stage[0]!.toFixed(1)
      } µs of CPU with coalescing (${(stage[0]! / base.cpuUs * 100).toFixed(1)}% of the uncached call above), ${
        stage[1]!.toFixed(1)
      } µs with \`coalesce: false\` (${(stage[1]! / base.cpuUs * 100).toFixed(1)}%).`,
      "",
      `Targets: a fresh hit costs ${(hit * 100).toFixed(1)}% of an uncached call (target < 20%); the cache stage adds ${
        pct(miss)
      } to a miss (target < 5%), ${pct(solo$)} with \`coalesce: false\` (no fiber per miss).`,
      ""
    ].join("\n")
  } finally {
    server.kill("SIGTERM")
  }
}
