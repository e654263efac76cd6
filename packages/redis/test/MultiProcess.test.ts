/**
 * Four Node processes, each one app instance with Redis stores, against one
 * Sandbox. Real time cannot be avoided across processes, so each case is a
 * few seconds at most, synchronised by readiness lines (never by sleeping).
 */
import { Redis } from "@apikit/redis"
import { Sandbox } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as readline from "node:readline"
import { fileURLToPath } from "node:url"
import * as Support from "./support/redis.js"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const fixture = fileURLToPath(new URL("./fixtures/instance.ts", import.meta.url))
const adaptiveFixture = fileURLToPath(new URL("./fixtures/adaptive.ts", import.meta.url))
// express-rate-limit in a process of its own (its code lives with @apikit/rate-limit's tests).
const serverFixture = fileURLToPath(new URL("../../rate-limit/test/support/serve.ts", import.meta.url))

/** A child's stdout as awaited lines, bounded by a timeout so a stuck child fails the test instead of hanging it. */
const start = (args: ReadonlyArray<string>, script = fixture) => {
  const child: ChildProcess = spawn(process.execPath, [
    "--conditions=@apikit/source",
    "--import",
    "tsx",
    script,
    ...args
  ], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stderr = ""
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
  const lines: Array<string> = []
  const waiting: Array<(line: string) => void> = []
  readline.createInterface({ input: child.stdout! }).on("line", (raw) => {
    if (!raw.startsWith("@")) return
    const line = raw.slice(1)
    const next = waiting.shift()
    if (next) next(line)
    else lines.push(line)
  })
  const next = (timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift()
      if (line !== undefined) return resolve(line)
      const timer = setTimeout(() => reject(new Error(`no answer from instance ${args[0]}: ${stderr}`)), timeoutMs)
      waiting.push((l) => {
        clearTimeout(timer)
        resolve(l)
      })
    })
  return {
    next,
    send: (command: string) => child.stdin!.write(`${command}\n`),
    stop: () => {
      child.stdin!.end("exit\n")
      if (child.exitCode === null) setTimeout(() => child.kill("SIGKILL"), 5000).unref()
    }
  }
}
type Instance = ReturnType<typeof start>

/** Starts instances and waits until each has said "ready"; stops them with the scope. */
const instances = (argsOf: (i: number) => ReadonlyArray<string>, count = 4, script = fixture) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const all = Array.from({ length: count }, (_, i) => start(argsOf(i), script))
      const ready = await Promise.all(all.map((p) => p.next(60_000)))
      expect(ready).toEqual(Array(count).fill("ready"))
      return all
    }),
    (all) => Effect.sync(() => all.forEach((p) => p.stop()))
  )

/** Sends a command to each instance at once and collects their JSON answers. */
const each = (all: ReadonlyArray<Instance>, command: string, timeoutMs?: number) =>
  Effect.promise(async () => {
    all.forEach((p) => p.send(command))
    return (await Promise.all(all.map((p) => p.next(timeoutMs)))).map((line) =>
      JSON.parse(line) as Record<string, number>
    )
  })

describe.skipIf(!Support.available)("4 processes sharing Redis state", () => {
  it.live("share one limiter, one breaker and one token", () =>
    Effect.gen(function*() {
      const sandbox = yield* Support.instance(Sandbox.Sandbox, Sandbox.layer({}))
      const prefix = Support.newPrefix()
      // Also deletes the instances' keys afterwards.
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const n = 10
      const dead = `http://127.0.0.1:${yield* Support.freePort()}`
      const all = yield* instances((
        i
      ) => [sandbox.baseUrl, Support.url, prefix, String(n), i === 0 ? dead : sandbox.baseUrl])

      // 1. One limiter of N = 10 req/s: 4 × 4 calls at once are 16 permits, about 1.6 s.
      expect(yield* each(all, "limit 4")).toEqual(Array(4).fill({ ok: 4 }))
      const limited = yield* sandbox.stats
      const max = limited.maxRequestRate[Sandbox.defaultClient.clientId]!
      // Tolerance: +1. Permits are 100 ms apart, so N + 1 arrivals fit in one 999 ms span
      // only if an earlier one was sent 1 ms later than its slot than one N slots after it;
      // N + 2 would take a 101 ms hiccup (the processes share this machine's CPUs).
      expect(max).toBeLessThanOrEqual(n + 1)
      // Not stricter than asked either (4 separate limits would allow 40).
      expect(max).toBeGreaterThanOrEqual(n - 2)
      expect(limited.rateLimited).toBe(0)

      // 2. One breaker: instance 0 calls a dead port and opens it; the others fail fast, sending nothing.
      const [tripper, ...others] = all
      expect(yield* each([tripper!], "breaker 3")).toEqual([{ Transport: 3 }])
      const before = (yield* sandbox.stats).requests
      expect(yield* each(others, "breaker 2")).toEqual(Array(3).fill({ CircuitOpen: 2 }))
      expect((yield* sandbox.stats).requests).toBe(before)

      // 3. One token: no token yet, all four need one at once: one token request.
      expect(yield* each(all, "token 3")).toEqual(Array(4).fill({ ok: 3 }))
      expect((yield* sandbox.stats).tokensIssued).toBe(1)
      // The shared token expires (rewritten in Redis, instead of waiting an hour): one more.
      const [key] = (yield* Support.keysWithTtl(client, `${prefix}token:`)).map(([k]) => k)
      const entry = JSON.parse((yield* Effect.promise(() => client.get(key!)))!)
      entry.until = null
      entry.token.expiresAt = Date.now() - 1000
      yield* Effect.promise(() => client.set(key!, JSON.stringify(entry), "PX", 60_000))
      expect(yield* each(all, "token 3")).toEqual(Array(4).fill({ ok: 3 }))
      expect((yield* sandbox.stats).tokensIssued).toBe(2)
      expect(yield* Support.keysWithTtl(client, `${prefix}token-lock:`)).toEqual([])
    }).pipe(Effect.scoped), 60_000)

  it.live(
    "adaptive: four instances share one learned quota against express-rate-limit (draft-8)",
    () =>
      Effect.gen(function*() {
        // 12 per 1 s window; each instance is configured 10x too high (120/s) and runs 3 at a time (12 in all).
        const limit = 12
        const server = yield* Effect.acquireRelease(
          Effect.sync(() => start(["express-draft-8", String(limit), "1000"], serverFixture)),
          (s) => Effect.sync(() => s.stop())
        )
        const url = yield* Effect.promise(() => server.next(30_000))
        const prefix = Support.newPrefix()
        yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
        const calls = 12
        const all = yield* instances(
          () => [url, Support.url, prefix, String(10 * limit), String(calls), "3"],
          4,
          adaptiveFixture
        )
        expect(yield* each(all, "go", 40_000)).toEqual(Array(4).fill({ ok: calls }))
        server.send("stats")
        const stats = JSON.parse(yield* Effect.promise(() => server.next())) as {
          arrivals: Array<number>
          refused: Array<number>
        }
        const first = Math.min(...stats.arrivals)
        // At most 1% of the 48 calls meet a 429 after the first window: none.
        expect(stats.refused.filter((t) => t >= first + 1000)).toEqual([])
        // Never more than the server's limit in one of its windows (each starts at its first request).
        let windowEnd = -Infinity
        let count = 0
        let max = 0
        for (const t of [...stats.arrivals].sort((a, b) => a - b)) {
          if (t >= windowEnd) [windowEnd, count] = [t + 1000, 0]
          max = Math.max(max, ++count)
        }
        expect(max).toBeLessThanOrEqual(limit)
      }).pipe(Effect.scoped),
    120_000 // five Node processes starting under tsx, then four 1 s windows
  )
})
