/**
 * Adaptive mode against real rate-limited server software: express-rate-limit
 * (draft-8, draft-7, draft-6 with legacy headers) and @fastify/rate-limit, each
 * in a process of its own allowing 10 requests per 1 s window. Every client is
 * configured 10x too high (100/s), runs 60 GETs at concurrency 10 and retries
 * 429s after their Retry-After:
 *
 * - a plain fixed-window client: bottleneck's reservoir (100 per 1 s) over
 *   fetch, retrying 429s after Retry-After;
 * - apikit with `adaptive: false` (its fixed window, Retry.transient);
 * - apikit with `adaptive: true`.
 *
 * Reports the 429s the server sent (all, and after the first window), whether
 * every call succeeded, and the server-observed throughput against its limit.
 * `pnpm bench rate-limit-servers`.
 */
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import Bottleneck from "bottleneck"
import { Effect, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"

const LIMIT = 10
const WINDOW = 1000
const CALLS = 60
const kinds = ["express-draft-8", "express-draft-7", "express-draft-6", "fastify"] as const

const serveScript = fileURLToPath(new URL("../packages/rate-limit/test/support/serve.ts", import.meta.url))

/** A server process: its URL, and its counts on demand. */
const serve = async (kind: string) => {
  const child: ChildProcess = spawn(process.execPath, [
    "--import",
    "tsx",
    serveScript,
    kind,
    String(LIMIT),
    String(WINDOW)
  ], {
    stdio: ["pipe", "pipe", "inherit"]
  })
  const lines: Array<string> = []
  const waiting: Array<(line: string) => void> = []
  readline.createInterface({ input: child.stdout! }).on("line", (raw) => {
    if (!raw.startsWith("@")) return
    const next = waiting.shift()
    if (next) next(raw.slice(1))
    else lines.push(raw.slice(1))
  })
  const next = () =>
    new Promise<string>((resolve) => {
      const line = lines.shift()
      if (line !== undefined) resolve(line)
      else waiting.push(resolve)
    })
  const url = await next()
  return {
    url,
    stats: async () => {
      child.stdin!.write("stats\n")
      return JSON.parse(await next()) as { arrivals: Array<number>; refused: Array<number> }
    },
    stop: () => child.stdin!.end("exit\n")
  }
}

const warm = (url: string) =>
  Promise.all(Array.from({ length: LIMIT }, () => fetch(`${url}/warm`).then((r) => r.text())))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** bottleneck's reservoir as a fixed window (100 per second), fetch, and 429 retried after Retry-After. */
const plain = async (url: string): Promise<Array<string>> => {
  const limiter = new Bottleneck({
    maxConcurrent: LIMIT,
    reservoir: 10 * LIMIT,
    reservoirRefreshAmount: 10 * LIMIT,
    reservoirRefreshInterval: WINDOW
  })
  const one = async (): Promise<string> => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const response = await limiter.schedule(() => fetch(`${url}/v1/items`))
      await response.text()
      if (response.status !== 429) return response.ok ? "ok" : String(response.status)
      await sleep(Number(response.headers.get("retry-after") ?? "1") * 1000)
    }
    return "429"
  }
  const out = await Promise.all(Array.from({ length: CALLS }, () => one()))
  await limiter.stop({ dropWaitingJobs: false })
  return out
}

const apikit = (url: string, adaptive: boolean) =>
  Effect.gen(function*() {
    const api = yield* ApiClient.make({
      baseUrl: url,
      rateLimit: yield* RateLimit.make({ limit: 10 * LIMIT, window: "1 second", adaptive }),
      retry: Retry.transient({ times: 5, base: "100 millis" })
    })
    return yield* Effect.forEach(
      Array.from({ length: CALLS }),
      () => api.get("/v1/items").pipe(Effect.as("ok"), Effect.catchAll((e) => Effect.succeed(e._tag))),
      { concurrency: LIMIT }
    )
  }).pipe(
    Effect.provide(Layer.merge(NodeHttpClient.layerUndici, RateLimit.layerMemory)),
    Effect.runPromise
  )

interface Row {
  readonly server: string
  readonly client: string
  readonly refused: number
  readonly late: number
  readonly ok: number
  readonly ratio: number
  readonly seconds: number
}

const measure = async (kind: string, client: string, run: (url: string) => Promise<Array<string>>): Promise<Row> => {
  const server = await serve(kind)
  try {
    await warm(server.url)
    const start = performance.now()
    const outcomes = await run(server.url)
    const seconds = (performance.now() - start) / 1000
    const { arrivals, refused } = await server.stats()
    const first = Math.min(...arrivals)
    const accepted = arrivals.length - refused.length
    const span = (Math.max(...arrivals) - first + WINDOW) / 1000
    return {
      server: kind,
      client,
      refused: refused.length,
      late: refused.filter((t) => t >= first + WINDOW).length,
      ok: outcomes.filter((o) => o === "ok").length,
      ratio: accepted / span / LIMIT,
      seconds
    }
  } finally {
    server.stop()
  }
}

export async function run(): Promise<string> {
  const rows: Array<Row> = []
  for (const kind of kinds) {
    rows.push(await measure(kind, "plain fixed window (bottleneck 100/s + fetch, retry 429)", plain))
    rows.push(await measure(kind, "apikit `adaptive: false`", (url) => apikit(url, false)))
    rows.push(await measure(kind, "**apikit `adaptive: true`**", (url) => apikit(url, true)))
  }
  return [
    "## Rate limits against real servers\n",
    `Servers in their own processes, ${LIMIT} requests per ${
      WINDOW / 1000
    } s window; every client configured 10x too high (${
      10 * LIMIT
    }/s), ${CALLS} GETs at concurrency ${LIMIT}, 429s retried after Retry-After. "after 1st window": 429s the server sent after its first window (target: at most 1% of calls). Throughput: requests the server accepted per second over the windows used, against its limit (target: at least 0.9x).\n`,
    "| server | client | 429s | after 1st window | calls ok | throughput vs limit | wall time |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.server} | ${r.client} | ${r.refused} | ${r.late} (${
        (100 * r.late / CALLS).toFixed(0)
      }%) | ${r.ok}/${CALLS} | ${r.ratio.toFixed(2)}x | ${r.seconds.toFixed(1)} s |`
    ),
    ""
  ].join("\n")
}
