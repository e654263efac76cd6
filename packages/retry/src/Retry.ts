/**
 * Retry policies built on Effect `Schedule`, for the ApiClient retry slot and
 * for any Effect.
 *
 * `Retry.transient()` retries only what is worth retrying (Timeout, Transport,
 * 408, 429, 500, 502, 503, 504, transient AuthErrors, and CircuitOpen when its
 * retryAfter fits), with exponential backoff and full jitter from Effect
 * `Random`. A server's Retry-After is a floor for the next delay and is never
 * jittered; when it is over the cap or past the call's deadline the error is
 * returned at once.
 *
 * @since 0.1.0
 */
import type * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as engine from "./internal/engine.js"
import * as RetryBudget from "./RetryBudget.js"

/**
 * How `transient` retries.
 *
 * @since 0.1.0
 * @category options
 */
export interface TransientOptions {
  /** Retries after the first attempt (default 3). */
  readonly times?: number | undefined
  /** The first backoff delay before jitter (default 200 millis). */
  readonly base?: Duration.DurationInput | undefined
  /** The growth of the backoff per retry (default 2). */
  readonly factor?: number | undefined
  /**
   * The longest single wait (default 30 seconds). Backoff delays are clamped
   * to it; a Retry-After (or CircuitOpen retryAfter) above it fails at once.
   */
  readonly cap?: Duration.DurationInput | undefined
  /** The longest total time from the first attempt to the start of the last retry. */
  readonly maxElapsed?: Duration.DurationInput | undefined
  /** `"full"` (default): each delay is uniform in [0, backoff). `"none"`: exactly the backoff. */
  readonly jitter?: "full" | "none" | undefined
  /**
   * Your own Schedule for the delays, replacing base/factor/jitter. Its input is
   * the error. `times`, `cap`, `maxElapsed`, the Retry-After floor, the
   * deadline and the budget still apply.
   */
  readonly schedule?: Schedule.Schedule<unknown, ApiError.ApiError> | undefined
  /** Narrows what is retried: only errors that are transient *and* pass this. */
  readonly while?: ((error: ApiError.ApiError) => boolean) | undefined
  /**
   * Retry POST and PATCH calls that carry no idempotency key. Off by default: a
   * retried POST may create the resource twice.
   */
  readonly retryNonIdempotent?: boolean | undefined
  /** A shared budget of retries per call over a sliding window (see {@link budget}). */
  readonly budget?: RetryBudget.RetryBudget | undefined
}

/**
 * A retry policy: fits the ApiClient `retry` slot, and {@link retry} runs it on any Effect.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy extends Policy.RetryPolicy {
  /** Runs an effect under this policy; its ApiErrors are classified, other errors are never retried. */
  readonly apply: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/**
 * Whether an error is one `transient` retries: Timeout (of an attempt),
 * Transport, 408, 429 and 503 `RateLimited`, 500/502/503/504, CircuitOpen and
 * AuthError with `transient: true`. Never other 4xx, DecodeError or the
 * client's own `ClientLimit`/`BulkheadFull` rejections.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransient = (error: ApiError.ApiError): boolean => engine.transientReason(error) !== undefined

const positive = (n: number) => Number.isFinite(n) && n >= 0

const validate = (options: TransientOptions): string | undefined => {
  const { factor, times } = options
  if (times !== undefined && !(Number.isInteger(times) && times >= 0)) {
    return `times must be a non-negative integer, got ${times}`
  }
  if (factor !== undefined && !(Number.isFinite(factor) && factor >= 1)) return `factor must be >= 1, got ${factor}`
  for (const key of ["base", "cap", "maxElapsed"] as const) {
    const value = options[key]
    if (value === undefined) continue
    const decoded = Duration.decodeUnknown(value)
    if (decoded._tag === "None" || !positive(Duration.toMillis(decoded.value))) {
      return `${key} must be a finite, non-negative duration`
    }
  }
  return undefined
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base * factor^n)). */
const fullJitter = (base: Duration.Duration, factor: number, capMillis: number, jitter: boolean) =>
  Schedule.exponential(base, factor).pipe(
    Schedule.modifyDelayEffect((_, delay) => {
      const ceiling = Math.min(capMillis, Duration.toMillis(delay))
      return jitter ? Effect.map(Random.next, (r) => Duration.millis(Math.floor(r * ceiling))) : Effect.succeed(
        Duration.millis(ceiling)
      )
    })
  )

const settingsOf = (options: TransientOptions): engine.Settings => {
  const capMillis = Duration.toMillis(options.cap ?? "30 seconds")
  const times = options.times ?? 3
  const backoff = options.schedule ??
    fullJitter(
      Duration.decode(options.base ?? "200 millis"),
      options.factor ?? 2,
      capMillis,
      options.jitter !== "none"
    )
  const limited = options.schedule !== undefined && options.times === undefined
    ? backoff
    : Schedule.intersect(backoff, Schedule.recurs(times))
  return {
    schedule: limited as Schedule.Schedule<unknown, ApiError.ApiError>,
    capMillis,
    maxElapsedMillis: options.maxElapsed === undefined ? undefined : Duration.toMillis(options.maxElapsed),
    retryNonIdempotent: options.retryNonIdempotent === true,
    predicate: options.while,
    budget: options.budget
  }
}

/**
 * The default policy: retries transient failures with exponential backoff and
 * full jitter (times 3, base 200 millis, factor 2, cap 30 seconds). Retry-After
 * is a floor; over the cap or past the deadline the error is returned at once.
 * Invalid options (negative times, factor below 1) are a bug in the caller's
 * code: every call through the policy dies with a message saying which.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { ApiClient } from "@apikit/http"
 * import { Retry } from "@apikit/retry"
 *
 * const api = ApiClient.make({
 *   baseUrl: "https://api.example.com",
 *   retry: Retry.transient({ times: 5, base: "200 millis", cap: "10 seconds" }),
 *   timeout: { attempt: "5 seconds", total: "30 seconds" }
 * })
 */
export const transient = (options: TransientOptions = {}): RetryPolicy => {
  const invalid = validate(options)
  const name = options.schedule === undefined ? "retry(transient)" : "retry(schedule)"
  if (invalid !== undefined) {
    const die = Effect.dieMessage(`Retry.transient: ${invalid}`)
    return { ...Policy.make("retry", name, () => () => die), apply: () => die }
  }
  const settings = settingsOf(options)
  return {
    ...Policy.make("retry", name, (next) => (request, context) =>
      engine.run(
        settings,
        {
          client: context.client,
          method: context.method,
          route: context.route,
          idempotent: context.idempotent,
          replayable: context.replayable,
          deadline: context.deadline
        },
        (attempt) => next(request, attempt === 1 ? context : { ...context, attempt })
      ), { honorsDeadline: true }),
    apply: (effect) =>
      engine.run(
        settings,
        {
          client: undefined,
          method: undefined,
          route: undefined,
          idempotent: true,
          replayable: true,
          deadline: undefined
        },
        () => effect
      )
  }
}

/**
 * The histogram of retry delays in milliseconds (`apikit_retry_delay_ms`): one
 * sample per retry, tagged `client`, `reason` and `attempt` (the attempt that failed).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retryDelays: typeof engine.retries = engine.retries

/**
 * The counter of retryable failures returned without a retry
 * (`apikit_retry_give_ups_total`), tagged `client` and `why`: `Exhausted`,
 * `RetryAfterOverCap`, `Deadline`, `MaxElapsed`, `BudgetExhausted`,
 * `NotIdempotent`, `NotReplayable`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const giveUps: typeof engine.giveUps = engine.giveUps

/**
 * Runs any effect under a retry policy. Its ApiErrors are retried as the
 * policy says; other errors are returned at once. The effect is assumed safe
 * to repeat: that is why you wrap it.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * import { ApiClient } from "@apikit/http"
 * import { Retry } from "@apikit/retry"
 * import { Effect } from "effect"
 *
 * const report = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://reports.example.com" })
 *   return yield* api.get("/v1/report").pipe(Retry.retry(Retry.transient({ times: 2 })))
 * })
 */
export const retry: {
  (policy: RetryPolicy): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy): Effect.Effect<A, E, R>
} = dual(2, <A, E, R>(self: Effect.Effect<A, E, R>, policy: RetryPolicy) => policy.apply(self))

/**
 * Makes a retry budget (state, so it is an Effect): retries may not exceed
 * `ratio` of the calls over a sliding `window`, plus `minRetries` per window.
 * When it is spent the original error is returned.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Retry } from "@apikit/retry"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* Retry.budget({ ratio: 0.2, window: "10 seconds" })
 *   return Retry.transient({ times: 3, budget })
 * })
 */
export const budget: (options: RetryBudget.Options) => Effect.Effect<RetryBudget.RetryBudget> = RetryBudget.make
