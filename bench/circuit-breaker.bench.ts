/**
 * Per-call overhead of a closed circuit breaker around a trivial call: apikit's
 * breaker around an Effect, against opossum and cockatiel around an async
 * function, each relative to its own bare call, in one run.
 *
 * Every task runs a batch of `batch` sequential calls, so per-call times are well
 * above the timer's resolution. Effect calls are measured two ways: inside one
 * fiber (how a breaker runs in an Effect program) and one `runPromise` per call
 * (entering Effect from Promise code each time, as the async peers do).
 *
 * Inside one fiber, Effect's scheduler yields every 2048 operations. A bare
 * `Effect.succeed` loop never reaches that, a guarded loop does, so the main
 * in-fiber rows turn op-count yielding off for both, to compare the breaker and
 * not the scheduler; one row shows the guarded loop with default yielding.
 */
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import {
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import { Effect, Schedule } from "effect"
import Opossum from "opossum"
import { Bench } from "tinybench"

const batch = 1000
const rounds = 3

interface Row {
  readonly name: string
  readonly baseline: string
  readonly nsPerCall: number
}

export async function run(): Promise<string> {
  const breaker = Effect.runSync(
    CircuitBreaker.make({ key: "bench", trip: CircuitBreaker.consecutive(5) }).pipe(
      Effect.provide(CircuitBreakerStore.layerMemory)
    )
  )
  const trivial = Effect.succeed(1)
  const guarded = breaker.guard(trivial)
  // The least any Effect-native breaker does to see a call's outcome: one suspension (to read
  // the state per call) and one match on the exit. Its cost is the floor under our row.
  const observed = Effect.suspend(() =>
    Effect.matchCauseEffect(trivial, { onSuccess: Effect.succeed, onFailure: Effect.failCause })
  )
  // The same shape as cockatiel's wrap(retry, breaker, timeout), in Effect's own terms.
  const pipeline = breaker.guard(Effect.timeout(trivial, "10 seconds")).pipe(
    Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 3 })
  )

  const loop = (effect: Effect.Effect<unknown, unknown>) =>
    Effect.gen(function*() {
      for (let i = 0; i < batch; i++) yield* effect
    })
  const inFiber = (effect: Effect.Effect<unknown, unknown>) => Effect.withMaxOpsBeforeYield(loop(effect), 1e9)
  const bareLoop = inFiber(trivial)
  const guardedLoop = inFiber(guarded)
  const observedLoop = inFiber(observed)
  const guardedYieldingLoop = loop(guarded)
  const pipelineLoop = inFiber(pipeline)

  const fn = async () => 1
  const cockatielBreaker = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })
  const cockatielPipeline = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(10_000, TimeoutStrategy.Cooperative)
  )
  const opossum = new Opossum(fn, { timeout: false, errorThresholdPercentage: 50, resetTimeout: 30_000 })
  const opossumDefault = new Opossum(fn) // a 10 s timeout timer per call, as configured out of the box

  const tasks: Array<[string, () => Promise<unknown>]> = [
    ["effect: bare, in one fiber", () => Effect.runPromise(bareLoop)],
    ["effect: no-op wrapper (suspend + match on exit), in one fiber", () => Effect.runPromise(observedLoop)],
    ["effect: breaker, in one fiber", () => Effect.runPromise(guardedLoop)],
    ["effect: breaker, in one fiber, default yielding", () => Effect.runPromise(guardedYieldingLoop)],
    ["effect: breaker + timeout + retry, in one fiber", () => Effect.runPromise(pipelineLoop)],
    ["effect: bare, runPromise per call", async () => {
      for (let i = 0; i < batch; i++) await Effect.runPromise(trivial)
    }],
    ["effect: breaker, runPromise per call", async () => {
      for (let i = 0; i < batch; i++) await Effect.runPromise(guarded)
    }],
    ["async: bare", async () => {
      for (let i = 0; i < batch; i++) await fn()
    }],
    ["cockatiel: consecutive breaker", async () => {
      for (let i = 0; i < batch; i++) await cockatielBreaker.execute(fn)
    }],
    ["cockatiel: wrap(retry, breaker, timeout)", async () => {
      for (let i = 0; i < batch; i++) await cockatielPipeline.execute(fn)
    }],
    ["opossum: breaker (timeout off)", async () => {
      for (let i = 0; i < batch; i++) await opossum.fire()
    }],
    ["opossum: breaker (defaults, 10 s timeout)", async () => {
      for (let i = 0; i < batch; i++) await opossumDefault.fire()
    }]
  ]
  // The machine may be busy (the suite runs beside other work): each task's
  // figure is its best median over a few rounds, which load can only inflate.
  const ns = new Map<string, number>()
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time: 300, warmupTime: 100 })
    for (const [name, task] of tasks) bench.add(name, task)
    await bench.run()
    for (const task of bench.tasks) {
      const result = task.result
      const median = result.state === "completed" ? (result.latency.p50 * 1e6) / batch : NaN
      ns.set(task.name, Math.min(ns.get(task.name) ?? Infinity, median))
    }
  }
  opossum.shutdown()
  opossumDefault.shutdown()

  const rows: Array<Row> = [
    ["effect: bare, in one fiber", "effect: bare, in one fiber"],
    ["effect: no-op wrapper (suspend + match on exit), in one fiber", "effect: bare, in one fiber"],
    ["effect: breaker, in one fiber", "effect: bare, in one fiber"],
    ["effect: breaker, in one fiber, default yielding", "effect: bare, in one fiber"],
    ["effect: breaker + timeout + retry, in one fiber", "effect: bare, in one fiber"],
    ["effect: bare, runPromise per call", "effect: bare, runPromise per call"],
    ["effect: breaker, runPromise per call", "effect: bare, runPromise per call"],
    ["async: bare", "async: bare"],
    ["cockatiel: consecutive breaker", "async: bare"],
    ["cockatiel: wrap(retry, breaker, timeout)", "async: bare"],
    ["opossum: breaker (timeout off)", "async: bare"],
    ["opossum: breaker (defaults, 10 s timeout)", "async: bare"]
  ].map(([name, baseline]) => ({ name: name!, baseline: baseline!, nsPerCall: ns.get(name!)! }))

  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "n/a")
  const lines = [
    "## circuit-breaker: closed-breaker overhead per call",
    "",
    `Batches of ${batch} sequential calls of a trivial call (\`Effect.succeed(1)\` / \`async () => 1\`); ns per call (best median of ${rounds} rounds).`,
    "`added` is the time over the row's own bare call; `ratio` is the row over its bare call.",
    "",
    "| call | ns/call | added ns | ratio vs its bare call |",
    "| --- | ---: | ---: | ---: |"
  ]
  for (const row of rows) {
    const base = ns.get(row.baseline)!
    lines.push(
      `| ${row.name} | ${fmt(row.nsPerCall)} | ${fmt(row.nsPerCall - base)} | ${(row.nsPerCall / base).toFixed(2)}× |`
    )
  }
  const ours = ns.get("effect: breaker, in one fiber")! - ns.get("effect: bare, in one fiber")!
  const oursPromise = ns.get("effect: breaker, runPromise per call")! - ns.get("effect: bare, runPromise per call")!
  const theirs = ns.get("cockatiel: consecutive breaker")! - ns.get("async: bare")!
  const floor = ns.get("effect: no-op wrapper (suspend + match on exit), in one fiber")! -
    ns.get("effect: bare, in one fiber")!
  lines.push(
    "",
    `apikit's closed breaker adds ${fmt(ours)} ns per call inside a fiber (${
      fmt(oursPromise)
    } ns entering from a Promise each call); cockatiel's consecutive breaker adds ${fmt(theirs)} ns (${
      (ours / theirs).toFixed(2)
    }× cockatiel's added cost). A wrapper that does nothing but observe the call in Effect adds ${
      fmt(floor)
    } ns: the floor for any breaker written as an Effect.`,
    ""
  )
  return lines.join("\n")
}
