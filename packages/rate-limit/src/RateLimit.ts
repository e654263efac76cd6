/**
 * Keyed client-side rate limiting for the ApiClient `rateLimit` slot, built on
 * `@effect/experimental` RateLimiter and its `RateLimiterStore` (memory now,
 * Redis to share limits across instances).
 *
 * Each attempt takes `context.cost` permits of its key (default: the client's
 * name); a cost of 0 takes none (the cache stage's revalidations when the
 * provider does not count a 304). When none is left it waits (`onExceeded: "delay"`, up to `maxWait` and
 * never past the call's deadline) or fails with `RateLimited{reason:
 * "ClientLimit"}`. An optional bulkhead bounds calls in flight per key, and
 * adaptive mode makes every caller of a key wait while the server says the
 * key has nothing left.
 *
 * @since 0.1.0
 */
import * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as RateLimitHeaders from "@apikit/http/RateLimitHeaders"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Bulkhead from "./internal/bulkhead.js"
import { PauseStore } from "./PauseStore.js"

/**
 * How a limiter is configured.
 *
 * @since 0.1.0
 */
export interface Options {
  /** The limit's key: a name, or one computed per call (e.g. per route). Default: the client's name. */
  readonly key?: string | ((context: Policy.CallContext) => string) | undefined
  /** Permits per window. */
  readonly limit: number
  readonly window: Duration.DurationInput
  /**
   * `"fixed-window"` (default): at most `limit` per window. `"token-bucket"`: a
   * burst of `limit`, then one permit every `window / limit`.
   */
  readonly algorithm?: "fixed-window" | "token-bucket" | undefined
  /** `"delay"` (default): wait for a permit. `"fail"`: fail with RateLimited at once. */
  readonly onExceeded?: "delay" | "fail" | undefined
  /** The longest wait for a permit or a server pause; longer waits fail with RateLimited at once. */
  readonly maxWait?: Duration.DurationInput | undefined
  /**
   * Learn from the server: when a response says nothing remains until T
   * (`X-RateLimit-Remaining: 0`, `RateLimit: r=0`, ...) or a 429/503 carries a
   * Retry-After, every caller of the key waits until T.
   */
  readonly adaptive?: boolean | undefined
  /** At most `maxConcurrent` calls in flight per key, `maxQueue` more waiting; beyond that, BulkheadFull. */
  readonly bulkhead?: { readonly maxConcurrent: number; readonly maxQueue: number } | undefined
}

/**
 * The stores a limiter needs.
 *
 * @since 0.1.0
 */
export type Stores = RateLimiter.RateLimiterStore | PauseStore

/**
 * In-memory stores (limiter counters and server pauses) for one process.
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<Stores> = Layer.merge(RateLimiter.layerStoreMemory, PauseStore.layerMemory)

const validate = (options: Options, windowMillis: number, maxWaitMillis: number | undefined): string | undefined => {
  if (!(Number.isInteger(options.limit) && options.limit > 0)) return `limit must be a positive integer`
  if (!(windowMillis > 0 && Number.isFinite(windowMillis))) return `window must be a positive, finite duration`
  if (maxWaitMillis !== undefined && !(maxWaitMillis >= 0)) return `maxWait must be a non-negative duration`
  const b = options.bulkhead
  if (b !== undefined && !(Number.isInteger(b.maxConcurrent) && b.maxConcurrent > 0)) {
    return `bulkhead.maxConcurrent must be a positive integer`
  }
  if (b !== undefined && !(Number.isInteger(b.maxQueue) && b.maxQueue >= 0)) {
    return `bulkhead.maxQueue must be a non-negative integer`
  }
  return undefined
}

const rejected = (context: Policy.CallContext, key: string, retryAfter: Duration.Duration | undefined) =>
  new ApiError.RateLimited({
    method: context.method,
    url: context.url,
    reason: "ClientLimit",
    key,
    ...(retryAfter === undefined ? {} : { retryAfter })
  })

/**
 * Makes a rate-limit policy. Invalid options (a limit of 0, a zero window)
 * are a bug in the caller's code and die with a message saying which.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient } from "@apikit/http"
 * import { RateLimit } from "@apikit/rate-limit"
 * import { Effect } from "effect"
 *
 * const api = Effect.gen(function*() {
 *   const rateLimit = yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true, maxWait: "5 seconds" })
 *   return yield* ApiClient.make({ baseUrl: "https://api.example.com", rateLimit })
 * }).pipe(Effect.provide(RateLimit.layerMemory))
 */
export const make = (options: Options): Effect.Effect<Policy.RateLimitPolicy, never, Stores> =>
  Effect.gen(function*() {
    // decodeUnknown, not decode: a malformed duration string must not throw.
    const window = Option.getOrElse(Duration.decodeUnknown(options.window), () => Duration.zero)
    const windowMillis = Duration.toMillis(window)
    const maxWaitMillis = options.maxWait === undefined
      ? undefined
      : Option.match(Duration.decodeUnknown(options.maxWait), { onNone: () => NaN, onSome: Duration.toMillis })
    const invalid = validate(options, windowMillis, maxWaitMillis)
    if (invalid !== undefined) return yield* Effect.dieMessage(`RateLimit.make: ${invalid}`)

    const limiter = yield* RateLimiter.make
    const pauses = yield* PauseStore
    const { limit } = options
    const algorithm = options.algorithm ?? "fixed-window"
    const failFast = options.onExceeded === "fail"
    const bounded = failFast || maxWaitMillis !== undefined
    const keyOf = typeof options.key === "function"
      ? options.key
      : options.key === undefined
      ? (context: Policy.CallContext) => context.client
      : () => options.key as string
    const bulkhead = options.bulkhead === undefined
      ? undefined
      : Bulkhead.make(options.bulkhead.maxConcurrent, options.bulkhead.maxQueue)

    /**
     * Whether this call may wait `waitMillis` from `now`: no longer than maxWait, and ending
     * before its deadline (a wait that ends at the deadline leaves no time to send, like retry's).
     */
    const fits = (context: Policy.CallContext, now: number, waitMillis: number) =>
      (maxWaitMillis === undefined || waitMillis <= maxWaitMillis) &&
      (context.deadline === undefined || now + waitMillis < context.deadline)
    const always = () => true

    const consume = (key: string, tokens: number, onExceeded: "delay" | "fail") =>
      limiter.consume({ key, tokens, limit, window, algorithm, onExceeded })

    // A store outage must not stop calls: the server still enforces its own
    // limit (and adaptive mode still listens), so the limiter fails open.
    const storeDown = (key: string, error: RateLimiter.RateLimitStoreError) =>
      Effect.logWarning(`apikit rate limit: the limiter store failed; sending without a permit`).pipe(
        Effect.annotateLogs({ key, error: error.message })
      )

    /** Sleeps `delay` (when there is one), then continues with whether it waited. */
    const after = <A, E>(delay: Duration.Duration, k: (waited: boolean) => Effect.Effect<A, E>) =>
      Duration.isZero(delay) ? k(false) : Effect.zipRight(Effect.sleep(delay), k(true))

    /**
     * Takes `context.cost` permits, then continues with `k` (told whether it
     * waited). Written as one match per store call: this is the hot path.
     */
    const permit = <A, E>(
      key: string,
      context: Policy.CallContext,
      k: (waited: boolean) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | ApiError.RateLimited> => {
      const tokens = context.cost
      // A call that costs nothing (a revalidation the provider does not count) takes no permit.
      if (tokens <= 0) return k(false)
      // More than the whole limit can never be granted: waiting would be forever.
      if (tokens > limit) return Effect.fail(rejected(context, key, undefined))
      type Out = Effect.Effect<A, E | ApiError.RateLimited>
      const reserved = (allowed: (waitMillis: number) => boolean): Out =>
        Effect.matchEffect(consume(key, tokens, "delay"), {
          onFailure: (error): Out =>
            error.reason === "StoreError"
              ? Effect.zipRight(storeDown(key, error), k(false))
              : Effect.fail(rejected(context, key, error.retryAfter)),
          onSuccess: (result): Out =>
            allowed(Duration.toMillis(result.delay))
              ? after(result.delay, k)
              // Another caller reserved first; this permit is spent, which errs on the safe side.
              : Effect.fail(rejected(context, key, result.delay))
        })
      if (!failFast && maxWaitMillis === undefined && context.deadline === undefined) return reserved(always)
      // Bounded waits ask first without reserving, so a caller that will not
      // wait never holds a future permit that nobody uses.
      return Effect.matchEffect(consume(key, tokens, "fail"), {
        onSuccess: (): Out => k(false),
        onFailure: (error): Out => {
          if (error.reason === "StoreError") return Effect.zipRight(storeDown(key, error), k(false))
          if (failFast) return Effect.fail(rejected(context, key, error.retryAfter))
          return Effect.flatMap(Clock.currentTimeMillis, (now) =>
            fits(context, now, Duration.toMillis(error.retryAfter))
              ? reserved((waitMillis) => fits(context, now, waitMillis))
              : Effect.fail(rejected(context, key, error.retryAfter)))
        }
      })
    }

    /** Waits while the server has paused the key (or fails when that is longer than allowed). */
    const awaitPause = (key: string, context: Policy.CallContext): Effect.Effect<void, ApiError.RateLimited> =>
      Effect.matchEffect(pauses.get(key), {
        onFailure: (error) =>
          Effect.logWarning(`apikit rate limit: the pause store failed; ignoring server pauses`).pipe(
            Effect.annotateLogs({ key, error: error.message })
          ),
        onSuccess: (until) =>
          until === undefined ? Effect.void : Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const wait = until - now
            if (wait <= 0) return Effect.void
            if (failFast || !fits(context, now, wait)) {
              return Effect.fail(rejected(context, key, Duration.millis(wait)))
            }
            // The pause may be extended while we sleep: look again before sending.
            return Effect.zipRight(Effect.sleep(Duration.millis(wait)), awaitPause(key, context))
          })
      })

    /** Whether the server has the key paused right now (a store failure reads as no pause). */
    const pausedNow = (key: string): Effect.Effect<boolean> =>
      Effect.matchEffect(pauses.get(key), {
        onFailure: () => Effect.succeed(false),
        onSuccess: (until) =>
          until === undefined ? Effect.succeed(false) : Effect.map(Clock.currentTimeMillis, (now) => until > now)
      })

    const pause = (key: string, until: number, source: string) =>
      pauses.pause(key, until).pipe(
        Effect.zipRight(
          Effect.logInfo(`apikit rate limit: "${key}" paused by the server`).pipe(
            Effect.annotateLogs({ key, until: new Date(until).toISOString(), source })
          )
        ),
        Effect.catchAll((error) => Effect.logWarning(`apikit rate limit: the pause store failed: ${error.message}`))
      )

    /** Adaptive mode: turns what the server said into a pause of the key. */
    const learn = (key: string, attempt: Effect.Effect<Policy.ApiResponse, ApiError.ApiError>) =>
      Effect.tapBoth(attempt, {
        onSuccess: (response) =>
          // Only a "remaining" value can say "nothing left"; skip the parse (and the clock) without one.
          response.headers["x-ratelimit-remaining"] === undefined && response.headers["ratelimit"] === undefined &&
            response.headers["ratelimit-remaining"] === undefined
            ? Effect.void
            : Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const info = RateLimitHeaders.parse(response.headers, now)
              return info?.remaining !== undefined && info.remaining <= 0 && info.reset !== undefined &&
                  Duration.toMillis(info.reset) > 0
                ? pause(key, now + Duration.toMillis(info.reset), "remaining=0")
                : Effect.void
            }),
        onFailure: (error) =>
          error._tag === "RateLimited" &&
            (error.reason === "TooManyRequests" || error.reason === "ServiceUnavailable") &&
            error.retryAfter !== undefined && Duration.toMillis(error.retryAfter) > 0
            ? Effect.flatMap(
              Clock.currentTimeMillis,
              (now) => pause(key, now + Duration.toMillis(error.retryAfter!), String(error.status ?? error.reason))
            )
            : Effect.void
      })

    const send = (next: Policy.Send): Policy.Send =>
      options.adaptive === true
        ? (request, context) => {
          const key = keyOf(context)
          const go = () => learn(key, next(request, context))
          // A caller that waited for its permit may find the key paused meanwhile. Its permit
          // belongs to a window that will be long gone when the pause ends, so it starts
          // over (wait out the pause, take a fresh permit) instead of firing with everyone
          // else the instant the pause ends.
          const admit = (): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
            Effect.zipRight(
              awaitPause(key, context),
              permit(
                key,
                context,
                (waited) => waited ? Effect.flatMap(pausedNow(key), (p) => p ? admit() : go()) : go()
              )
            )
          return admit()
        }
        : (request, context) => {
          const key = keyOf(context)
          if (bounded || context.deadline !== undefined || context.cost > limit || context.cost <= 0) {
            return permit(key, context, () => next(request, context))
          }
          // The common case, inlined (one store call, one match): it is the hot path the benchmark measures.
          return Effect.matchEffect(consume(key, context.cost, "delay"), {
            onFailure: (error) =>
              error.reason === "StoreError"
                ? Effect.zipRight(storeDown(key, error), next(request, context))
                : Effect.fail(rejected(context, key, error.retryAfter)),
            onSuccess: (result) =>
              Duration.isZero(result.delay)
                ? next(request, context)
                : Effect.zipRight(Effect.sleep(result.delay), next(request, context))
          })
        }

    const wrap = (next: Policy.Send): Policy.Send => {
      const inner = send(next)
      if (bulkhead === undefined) return inner
      return (request, context) => {
        const key = keyOf(context)
        return bulkhead(
          key,
          () => new ApiError.RateLimited({ method: context.method, url: context.url, reason: "BulkheadFull", key }),
          inner(request, context)
        )
      }
    }

    const name = typeof options.key === "string" ? options.key : "per-call key"
    // Every wait is refused past the deadline; a bulkhead's queue is not (it waits for a free slot).
    return Policy.make("rateLimit", `rateLimit(${name}: ${limit}/${Duration.format(window)} ${algorithm})`, wrap, {
      honorsDeadline: bulkhead === undefined
    })
  })
