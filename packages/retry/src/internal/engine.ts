/**
 * The retry loop. It drives the Schedule one step at a time (instead of
 * `Effect.retry`) because every delay must be checked before sleeping: the
 * server's Retry-After is a floor, the cap and the call's deadline are
 * ceilings, and the budget must agree.
 *
 * @internal
 */
import * as ApiError from "@apikit/http/ApiError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import type * as RetryBudget from "../RetryBudget.js"

/** @internal */
export interface Settings {
  readonly schedule: Schedule.Schedule<unknown, ApiError.ApiError>
  readonly capMillis: number
  readonly maxElapsedMillis: number | undefined
  readonly retryNonIdempotent: boolean
  readonly predicate: ((error: ApiError.ApiError) => boolean) | undefined
  readonly budget: RetryBudget.RetryBudget | undefined
}

/** What the loop knows about the call; for plain effects most of it is unknown. @internal */
export interface Target {
  readonly client: string | undefined
  readonly method: string | undefined
  readonly route: string | undefined
  readonly idempotent: boolean
  readonly replayable: boolean
  readonly deadline: number | undefined
}

const retryableStatuses: ReadonlySet<number> = new Set([500, 502, 503, 504])

/**
 * Why an error may be retried, or `undefined` when it must not be.
 *
 * @internal
 */
export const transientReason = (error: ApiError.ApiError): string | undefined => {
  switch (error._tag) {
    case "Timeout":
      // A Deadline timeout means the whole budget is gone.
      return error.reason === "Attempt" ? "Timeout" : undefined
    case "Transport":
      return `Transport(${error.reason})`
    case "RateLimited":
      // Client-side rejections are load shedding by this very client: retrying them is a storm.
      return error.reason === "TooManyRequests" || error.reason === "ServiceUnavailable" ? "RateLimited" : undefined
    case "ServerError":
      return retryableStatuses.has(error.status) ? `ServerError(${error.status})` : undefined
    case "UnexpectedStatus":
      return error.status === 408 ? "RequestTimeout(408)" : undefined
    case "CircuitOpen":
      return "CircuitOpen"
    case "AuthError":
      return error.transient ? `AuthError(${error.reason})` : undefined
    default:
      return undefined
  }
}

/** The server's (breaker's, token endpoint's) earliest sensible retry time: a floor, never jittered. */
const hintMillis = (error: ApiError.ApiError): number | undefined => {
  const after = ApiError.retryAfterOf(error)
  return after === undefined ? undefined : Duration.toMillis(after)
}

/** @internal */
export const retries = Metric.histogram(
  "apikit_retry_delay_ms",
  MetricBoundaries.exponential({ start: 10, factor: 2, count: 16 }),
  "Retries scheduled by @apikit/retry, with the delay before each (ms); tagged by client, reason and attempt"
)
/** @internal */
export const giveUps = Metric.counter("apikit_retry_give_ups_total", {
  description: "Retryable failures returned without retry, tagged by client and why (cap, deadline, budget, ...)",
  incremental: true
})

type Decision =
  | { readonly _tag: "Retry"; readonly delay: number; readonly state: unknown }
  | { readonly _tag: "Stop" }

const stop: Decision = { _tag: "Stop" }

const annotations = (target: Target) => ({
  ...(target.client === undefined ? {} : { client: target.client }),
  ...(target.method === undefined ? {} : { method: target.method }),
  ...(target.route === undefined ? {} : { route: target.route })
})

const giveUp = (target: Target, why: string, reason: string, attempt: number, detail: string) =>
  Effect.as(
    Effect.zipRight(
      Metric.increment(Metric.tagged(Metric.tagged(giveUps, "client", target.client ?? "-"), "why", why)),
      Effect.logDebug(`apikit retry skipped: ${detail}`).pipe(
        Effect.annotateLogs({ ...annotations(target), attempt, reason, why })
      )
    ),
    stop
  )

const emit = (target: Target, reason: string, attempt: number, delay: number, status: number | undefined) => {
  const attributes = {
    "apikit.retry.attempt": attempt,
    "apikit.retry.delay_ms": delay,
    "apikit.retry.reason": reason
  }
  const metric = retries.pipe(
    Metric.tagged("client", target.client ?? "-"),
    Metric.tagged("reason", reason),
    Metric.tagged("attempt", String(attempt))
  )
  const where = target.method === undefined ? "" : ` ${target.method} ${target.route ?? ""}`
  return Effect.all([
    Effect.logInfo(`apikit retry${where}: attempt ${attempt} failed (${reason}); retrying in ${delay} ms`).pipe(
      Effect.annotateLogs({
        ...annotations(target),
        attempt,
        delayMs: delay,
        reason,
        ...(status === undefined ? {} : { status })
      })
    ),
    Effect.flatMap(
      Effect.currentSpan,
      (span) => Effect.map(Clock.currentTimeNanos, (now) => span.event("apikit.retry", now, attributes))
    ).pipe(Effect.ignore),
    Metric.update(metric, delay)
  ], { discard: true })
}

const decide = (
  settings: Settings,
  target: Target,
  error: unknown,
  attempt: number,
  state: unknown,
  start: number
): Effect.Effect<Decision> => {
  if (!ApiError.isApiError(error)) return Effect.succeed(stop)
  const reason = transientReason(error)
  if (reason === undefined) return Effect.succeed(stop)
  if (settings.predicate !== undefined && !settings.predicate(error)) return Effect.succeed(stop)
  if (!target.replayable) {
    return giveUp(target, "NotReplayable", reason, attempt, "the request body is a stream and cannot be sent again")
  }
  if (!target.idempotent && !settings.retryNonIdempotent) {
    return giveUp(
      target,
      "NotIdempotent",
      reason,
      attempt,
      `${target.method} without an idempotency key is not retried (pass idempotencyKey, or opt in with retryNonIdempotent)`
    )
  }
  return Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const [next, , step] = yield* settings.schedule.step(now, error, state)
    if (ScheduleDecision.isDone(step)) return yield* giveUp(target, "Exhausted", reason, attempt, "no retries left")
    let delay = Math.min(settings.capMillis, Math.max(0, Intervals.start(step.intervals) - now))
    const hint = hintMillis(error)
    if (hint !== undefined) {
      // Like got (and unlike ky, which sleeps min(cap, Retry-After) and then gets the same 429):
      // a hint beyond the cap returns the error at once, so the caller can decide.
      if (hint > settings.capMillis) {
        return yield* giveUp(target, "RetryAfterOverCap", reason, attempt, `retry-after ${hint} ms is over the cap`)
      }
      delay = Math.max(delay, hint)
    }
    if (target.deadline !== undefined && now + delay >= target.deadline) {
      return yield* giveUp(target, "Deadline", reason, attempt, `a ${delay} ms wait would pass the call's deadline`)
    }
    if (settings.maxElapsedMillis !== undefined && now + delay - start > settings.maxElapsedMillis) {
      return yield* giveUp(target, "MaxElapsed", reason, attempt, `a ${delay} ms wait would pass maxElapsed`)
    }
    if (settings.budget !== undefined && !(yield* settings.budget.withdraw)) {
      return yield* giveUp(target, "BudgetExhausted", reason, attempt, "the retry budget is spent")
    }
    yield* emit(target, reason, attempt, delay, ApiError.statusOf(error))
    return { _tag: "Retry", delay, state: next } as const
  })
}

/**
 * Runs `attempt(n)` for n = 1, 2, ... until it succeeds or a retry is refused;
 * a refused retry returns the last error unchanged.
 *
 * @internal
 */
export const run = <A, E, R>(
  settings: Settings,
  target: Target,
  attempt: (n: number) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const retrying = Effect.clockWith((clock) => {
    const start = clock.unsafeCurrentTimeMillis()
    const loop = (n: number, state: unknown): Effect.Effect<A, E, R> =>
      Effect.catchAll(
        attempt(n),
        (error) =>
          Effect.flatMap(decide(settings, target, error, n, state, start), (decision) =>
            decision._tag === "Stop"
              ? Effect.fail(error)
              : Effect.zipRight(Effect.sleep(Duration.millis(decision.delay)), loop(n + 1, decision.state)))
      )
    return loop(1, settings.schedule.initial)
  })
  return settings.budget === undefined ? retrying : Effect.zipRight(settings.budget.deposit, retrying)
}
