/**
 * Decisions per second of @apikit/rate-limit's keyed limiter (a permissive
 * limit that never blocks, so only the decision is measured) against
 * @effect/experimental's limiter alone on the same memory store, core
 * `effect/RateLimiter`, and bottleneck. Fixed iterations after a warm-up; the
 * median of several rounds.
 */
import type { Policy } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import Bottleneck from "bottleneck"
import { Duration, Effect, Exit, Layer, RateLimiter as CoreRateLimiter, Scope } from "effect"

const N = 200_000
const ROUNDS = 9
const LIMIT = 1_000_000_000
const BOTTLENECK_N = 300

const request = HttpClientRequest.get("https://api.example.com/v1/things")
const context: Policy.CallContext = {
  client: "bench",
  method: "GET",
  url: "https://api.example.com/v1/things",
  host: "api.example.com",
  route: "/things",
  idempotent: true,
  replayable: true,
  deadline: undefined,
  attemptTimeout: undefined,
  attempt: 1,
  cost: 1
}
const response: Policy.ApiResponse = { status: 200, headers: Headers.empty, body: new Uint8Array(0) }
const sent = Effect.succeed(response)

/** Runs `one` n times in a single fiber, so per-run overhead is the same for every Effect-based candidate. */
const loop = <E>(one: Effect.Effect<unknown, E>, n: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* one
  })

interface Candidate {
  readonly name: string
  readonly run: (n: number) => Promise<void>
  /** Iterations per round. */
  readonly n: number
}

/**
 * Rounds are interleaved (every candidate once per round, in rotating order) so
 * that load from other processes hits all candidates alike; each result is the
 * median round.
 */
const measure = async (candidates: ReadonlyArray<Candidate>): Promise<Array<number>> => {
  for (const c of candidates) await c.run(Math.ceil(c.n / 10)) // warm-up
  const rates = candidates.map(() => [] as Array<number>)
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with a different candidate: position in the round (GC, JIT state) evens out.
    for (let j = 0; j < candidates.length; j++) {
      const i = (j + r) % candidates.length
      const c = candidates[i]!
      const start = performance.now()
      await c.run(c.n)
      rates[i]!.push(c.n / ((performance.now() - start) / 1000))
    }
  }
  return rates.map((xs) => xs.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!)
}

const apikit = (options: Partial<RateLimit.Options>) =>
  Effect.gen(function*() {
    const policy = yield* RateLimit.make({ limit: LIMIT, window: "1 second", ...options })
    const send = policy.wrap(() => sent)
    return (n: number) => Effect.runPromise(loop(send(request, context), n))
  }).pipe(Effect.provide(RateLimit.layerMemory), Effect.runPromise)

export async function run(): Promise<string> {
  const candidates: Array<Candidate> = []

  const experimental = await Effect.gen(function*() {
    const limiter = yield* RateLimiter.make
    const consume = limiter.consume({ key: "bench", limit: LIMIT, window: "1 second", onExceeded: "delay" })
    const bucket = limiter.consume({
      key: "bench3",
      limit: LIMIT,
      window: "1 second",
      onExceeded: "delay",
      algorithm: "token-bucket"
    })
    const withLimiter = yield* RateLimiter.makeWithRateLimiter.pipe(
      Effect.provideService(RateLimiter.RateLimiter, limiter)
    )
    const guarded = withLimiter({ key: "bench2", limit: LIMIT, window: "1 second", onExceeded: "delay" })(sent)
    // The least a policy does with a permit: look at its delay, then run the next stage. Any
    // limiter policy over consume pays this much; what apikit adds is the rest.
    const observed = (permit: typeof bucket) =>
      Effect.matchEffect(permit, {
        onFailure: Effect.fail,
        onSuccess: (result) => Duration.isZero(result.delay) ? sent : Effect.zipRight(Effect.sleep(result.delay), sent)
      })
    const bucketObserved = observed(bucket)
    // What adaptive mode adds at least: it must hear how every answered call ended (to release
    // its in-flight count and read the quota it reports), which takes one match on its exit.
    const accounted = Effect.matchEffect(consume, {
      onFailure: Effect.fail,
      onSuccess: (result) =>
        Duration.isZero(result.delay)
          ? Effect.matchCauseEffect(sent, { onFailure: Effect.failCause, onSuccess: Effect.succeed })
          : Effect.zipRight(Effect.sleep(result.delay), sent)
    })
    // The same with an exit hook that also runs on interruption (an uninterruptible region per
    // call): what adaptive mode paid when it released interrupted calls at once.
    const hooked = Effect.matchEffect(consume, {
      onFailure: Effect.fail,
      onSuccess: (result) =>
        Duration.isZero(result.delay)
          ? Effect.onExit(sent, () => Effect.void)
          : Effect.zipRight(Effect.sleep(result.delay), sent)
    })
    return {
      consume: (n: number) => Effect.runPromise(loop(consume, n)),
      guarded: (n: number) => Effect.runPromise(loop(guarded, n)),
      bucket: (n: number) => Effect.runPromise(loop(bucket, n)),
      bucketObserved: (n: number) => Effect.runPromise(loop(bucketObserved, n)),
      accounted: (n: number) => Effect.runPromise(loop(accounted, n)),
      hooked: (n: number) => Effect.runPromise(loop(hooked, n))
    }
  }).pipe(Effect.provide(Layer.fresh(RateLimiter.layerStoreMemory)), Effect.runPromise)
  candidates.push({ name: "@effect/experimental RateLimiter.consume (memory store)", run: experimental.consume, n: N })
  candidates.push({
    name: "@effect/experimental RateLimiter.consume, token bucket",
    run: experimental.bucket,
    n: N
  })
  candidates.push({ name: "@effect/experimental makeWithRateLimiter(effect)", run: experimental.guarded, n: N })
  candidates.push({
    name: "token bucket consume + one matchEffect on its delay (the floor of any policy)",
    run: experimental.bucketObserved,
    n: N
  })

  candidates.push({
    name: "consume + one matchEffect + one matchCauseEffect around the next stage (the floor of adaptive mode)",
    run: experimental.accounted,
    n: N
  })
  candidates.push({
    name: "consume + one matchEffect + Effect.onExit around the next stage (an exit hook that sees interruption)",
    run: experimental.hooked,
    n: N
  })
  candidates.push({ name: "apikit RateLimit (fixed window)", run: await apikit({}), n: N })
  candidates.push({ name: "apikit RateLimit (token bucket)", run: await apikit({ algorithm: "token-bucket" }), n: N })
  candidates.push({ name: "apikit RateLimit (adaptive)", run: await apikit({ adaptive: true }), n: N })
  candidates.push({
    name: "apikit RateLimit (adaptive + bulkhead)",
    run: await apikit({ adaptive: true, bulkhead: { maxConcurrent: 64, maxQueue: 64 } }),
    n: N
  })

  // The limiter lives in a scope kept open for the whole measurement, closed after it.
  const scope = Effect.runSync(Scope.make())
  const core = await Effect.runPromise(
    Effect.gen(function*() {
      const limiter = yield* CoreRateLimiter.make({ limit: LIMIT, interval: "1 second" })
      const one = limiter(Effect.void)
      return (n: number) => Effect.runPromise(loop(one, n))
    }).pipe(Scope.extend(scope))
  )
  candidates.push({ name: "effect/RateLimiter (core)", run: core, n: N })

  // Bottleneck hands each job over through timers (milliseconds per job), so it
  // gets fewer iterations: the rate is what matters, not the count.
  const bottleneck = new Bottleneck({ reservoir: LIMIT })
  const job = () => Promise.resolve()
  candidates.push({
    name: `bottleneck (reservoir; ${BOTTLENECK_N} per round)`,
    run: async (n) => {
      for (let i = 0; i < n; i++) await bottleneck.schedule(job)
    },
    n: BOTTLENECK_N
  })

  const results = await measure(candidates)
  await Effect.runPromise(Scope.close(scope, Exit.void))
  const rows = candidates.map((c, i) => [c.name, results[i]!] as const)
  const baseline = rows[0]![1]
  const bucketBaseline = rows[1]![1]
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US")
  return [
    "## Rate limiter decisions per second\n",
    `Permissive limit (never blocks), one key, ${
      N.toLocaleString("en-US")
    } sequential decisions per round, rounds interleaved across candidates, median of ${ROUNDS} rounds after a warm-up. apikit runs the whole policy (key, permit, and a no-op next stage); the baseline runs consume alone. Ratio is against @effect/experimental's limiter alone (target for apikit: >= 0.8x).\n`,
    "| limiter | decisions/s | ratio | ratio vs same algorithm |",
    "| --- | ---: | ---: | ---: |",
    ...rows.map(([name, rate]) =>
      `| ${name} | ${fmt(rate)} | ${(rate / baseline).toFixed(2)}x | ${
        (rate / (name.includes("token bucket") ? bucketBaseline : baseline)).toFixed(2)
      }x |`
    ),
    ""
  ].join("\n")
}
