/**
 * Memory, in two parts.
 *
 * Per-key state: a million distinct keys touched once each (one end user each)
 * in the circuit breaker (memory store and metrics), the memory token store
 * (tokens with a ttl) and OAuth 2.0 authorization-code connections; heap after
 * the million, then after the idle timeout / ttl has passed on the Clock and one
 * more call, compared with before (flat: the state is gone).
 *
 * Queued calls: 10,000 calls queued behind a limiter that admits none of them yet.
 * Reports heap and RSS growth per queued call (after a forced GC), and a leak
 * check: three rounds of queue-then-interrupt, with what is still held after
 * rounds 2 and 3 compared to round 1 (a leak grows; a high-water mark does not).
 * `pnpm bench memory`.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { MockHttp } from "@apikit/testing"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Clock, Effect, Fiber, Layer, Redacted, TestClock, TestContext } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const queued = 10_000
const rounds = 3

const measure = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

const keys = 1_000_000
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`

/** Heap before, after `touch` ran for each of `keys` keys, and after `expire` (time passes, one more touch). */
const perKey = (
  touch: (i: number) => Effect.Effect<unknown, unknown, TokenStore.TokenStore>,
  expire: Effect.Effect<unknown, unknown, TokenStore.TokenStore>
) =>
  Effect.gen(function*() {
    const before = measure()
    for (let i = 0; i < keys; i++) yield* Effect.ignore(touch(i))
    const touched = measure()
    yield* Effect.ignore(expire)
    const after = measure()
    return { before: before.heap, touched: touched.heap, after: after.heap }
  })

const runKeys = async (): Promise<string> => {
  const rows = await Effect.runPromise(
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(5) })
      const ok = Effect.void
      const circuits = yield* perKey(
        (i) => breaker.guard(ok, `user-${i}`),
        Effect.zipRight(TestClock.adjust("2 hours"), breaker.guard(ok, "one more"))
      )
      const store = yield* TokenStore.TokenStore
      const token = new TokenStore.StoredToken({ accessToken: Redacted.make("t"), obtainedAt: 0, expiresAt: 3_600_000 })
      const tokens = yield* perKey(
        (i) => store.set(`tenant-${i}`, token, { ttl: "1 hour" }),
        Effect.zipRight(TestClock.adjust("2 hours"), store.set("one more", token, { ttl: "1 hour" }))
      )
      const oauth = yield* OAuth2.authorizationCode({
        authorizeUrl: "https://auth.example.com/authorize",
        tokenUrl: "https://auth.example.com/token",
        clientId: "app",
        clientSecret: Redacted.make("s"),
        redirectUri: "https://app.example.com/callback"
      })
      // Users who never connected: each call fails ReauthorizationRequired, and leaves nothing behind.
      const connections = yield* perKey((i) => oauth.token(`user-${i}`), Effect.ignore(oauth.token("one more")))
      return [
        ["circuit breaker: `guard` with a new key each call (memory store, idle timeout 1 h)", circuits],
        ["memory token store: `set` with a 1 h ttl, a new key each", tokens],
        ["OAuth 2.0 authorization code: `token(connection)`, a new end user each", connections]
      ] as const
    }).pipe(
      Effect.provide(Layer.mergeAll(CircuitBreakerStore.layerMemory, TokenStore.layerMemory, MockHttp.layer([]))),
      Effect.provide(TestContext.TestContext)
    )
  )
  return [
    "## Memory: a million distinct keys, touched once each",
    "",
    `${keys.toLocaleString("en")} keys, heap after a forced GC: after the million, then after the idle timeout or ttl`,
    "passed on the Clock (TestClock, 2 hours) and one more call. Flat means the per-key state is gone.",
    "",
    "| state | heap held after the million | per key | held after expiry |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map(([name, r]) =>
      `| ${name} | ${mib(r.touched - r.before)} | ${((r.touched - r.before) / keys).toFixed(0)} B | ${
        mib(r.after - r.before)
      } |`
    ),
    "",
    "The breaker's metrics label the first 1,000 keys; later keys share `key=\"(other)\"` (Effect's metric",
    "registry never forgets a series).",
    ""
  ].join("\n")
}

export const run = async (): Promise<string> => [await runQueued(), await runKeys(), await runLimiterKeys()].join("\n")

const runQueued = async (): Promise<string> => {
  const layers = Layer.merge(MockHttp.layer([MockHttp.get("/x", MockHttp.json(200, {}))]), RateLimit.layerMemory)
  const result = await Effect.runPromise(
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.example.com",
        rateLimit: yield* RateLimit.make({ limit: 1, window: "1 hour", maxWait: "2 hours" })
      })
      yield* api.get("/x") // takes the one permit: everything after this waits
      const before = measure()
      const queuedAt: Array<{ heap: number; rss: number }> = []
      const releasedAt: Array<{ heap: number; rss: number }> = []
      for (let round = 0; round < rounds; round++) {
        const fibers = yield* Effect.forEach(Array.from({ length: queued }), () => Effect.fork(api.get("/x")))
        yield* Effect.yieldNow()
        queuedAt.push(measure())
        yield* Effect.forEach(fibers, Fiber.interrupt, { concurrency: "unbounded" })
        fibers.length = 0 // the bench's own references, so what remains is the library's
        releasedAt.push(measure())
      }
      return { before, queuedAt, releasedAt }
    }).pipe(Effect.provide(layers))
  )
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`
  const { before, queuedAt, releasedAt } = result
  return [
    "## Memory: calls queued behind a limiter",
    "",
    `${queued} calls waiting for a permit (limit 1 per hour), measured after a forced GC.`,
    "",
    "| | heap | RSS |",
    "| --- | ---: | ---: |",
    `| growth per queued call | ${((queuedAt[0]!.heap - before.heap) / queued).toFixed(0)} B | ${
      ((queuedAt[0]!.rss - before.rss) / queued).toFixed(0)
    } B |`,
    `| held after interrupting them (round 1, a high-water mark) | ${kib(releasedAt[0]!.heap - before.heap)} | ${
      kib(releasedAt[0]!.rss - before.rss)
    } |`,
    ...releasedAt.slice(1).map((m, i) =>
      `| leak check: held after round ${i + 2} minus round 1 | ${kib(m.heap - releasedAt[0]!.heap)} | ${
        kib(m.rss - releasedAt[0]!.rss)
      } |`
    ),
    ""
  ].join("\n")
}

/**
 * A million distinct keys, each touched once (one call per end user, say),
 * through an adaptive limiter on `RateLimit.layerMemory`, while a virtual
 * clock moves 3.6 ms per key (a million keys in an hour). Heap after a forced
 * GC at each quarter: flat once idle keys expire (the quota store forgets a key
 * 10 minutes after its last use, the limiter's counters once their window has
 * passed). Beside it, `@effect/experimental`'s memory store alone, which keeps
 * every key.
 */
const stepMicros = 3600

const virtualClock = () => {
  let micros = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => Math.floor(micros / 1000),
    currentTimeMillis: Effect.sync(() => Math.floor(micros / 1000)),
    unsafeCurrentTimeNanos: () => BigInt(micros) * 1000n,
    currentTimeNanos: Effect.sync(() => BigInt(micros) * 1000n),
    sleep: () => Effect.void
  }
  return { clock, advance: () => (micros += stepMicros) }
}

/** Touches keys 0..1M-1 in one fiber on the virtual clock; the heap growth after each quarter. */
const quarters = <E>(touch: (i: number) => Effect.Effect<unknown, E>, clock: ReturnType<typeof virtualClock>) =>
  Effect.withClock(
    Effect.gen(function*() {
      const heaps: Array<number> = []
      const before = measure().heap
      for (let q = 0; q < 4; q++) {
        for (let i = (q * keys) / 4; i < ((q + 1) * keys) / 4; i++) {
          clock.advance()
          yield* touch(i)
        }
        heaps.push(measure().heap - before)
      }
      return heaps
    }),
    clock.clock
  )

export const runLimiterKeys = async (): Promise<string> => {
  const apikitClock = virtualClock()
  const apikitHeaps = await Effect.gen(function*() {
    const policy = yield* RateLimit.make({ key: (ctx) => ctx.route, limit: 10, window: "1 second", adaptive: true })
    const send = policy.wrap(() => Effect.succeed({ status: 200, headers: Headers.empty, body: new Uint8Array(0) }))
    const request = HttpClientRequest.get("https://api.example.com/x")
    const base = {
      client: "bench",
      method: "GET" as const,
      url: "https://api.example.com/x",
      host: "api.example.com",
      idempotent: true,
      replayable: true,
      deadline: undefined,
      attemptTimeout: undefined,
      attempt: 1,
      cost: 1
    }
    return yield* quarters((i) => send(request, { ...base, route: `user-${i}` }), apikitClock)
  }).pipe(Effect.provide(RateLimit.layerMemory), Effect.runPromise)

  const expClock = virtualClock()
  const expHeaps = await Effect.gen(function*() {
    const limiter = yield* RateLimiter.make
    return yield* quarters(
      (i) => limiter.consume({ key: `user-${i}`, limit: 10, window: "1 second", onExceeded: "delay" }),
      expClock
    )
  }).pipe(Effect.provide(Layer.fresh(RateLimiter.layerStoreMemory)), Effect.runPromise)

  return [
    "## Memory: a million distinct keys, each touched once",
    "",
    `${keys.toLocaleString("en-US")} keys, one call each, ${
      stepMicros / 1000
    } ms of virtual time apart (an hour in all); heap growth after a forced GC at each quarter.`,
    "",
    "| store | 250k keys | 500k | 750k | 1M |",
    "| --- | ---: | ---: | ---: | ---: |",
    `| apikit adaptive limiter, \`RateLimit.layerMemory\` | ${apikitHeaps.map(mib).join(" | ")} |`,
    `| @effect/experimental \`layerStoreMemory\` alone | ${expHeaps.map(mib).join(" | ")} |`,
    ""
  ].join("\n")
}
