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
 * adaptive mode keeps the server's quota per key (in the {@link QuotaStore.QuotaStore}):
 * a call goes only when it fits in what the server said remains minus the
 * calls in flight, and every caller of the key waits for the reset otherwise.
 *
 * @since 0.1.0
 */
import * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as RateLimitHeaders from "@apikit/http/RateLimitHeaders"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Bulkhead from "./internal/bulkhead.js"
import * as LimiterStore from "./internal/limiterStore.js"
import * as Metrics from "./internal/metrics.js"
import * as Quota from "./internal/quota.js"
import * as QuotaStore from "./QuotaStore.js"

/**
 * How a limiter is configured.
 *
 * @since 0.1.0
 * @category options
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
   * Learn from the server: every answer's limit, remaining and reset
   * (`RateLimit`, `X-RateLimit-*`, a 429's Retry-After, ...) become the key's
   * quota in the {@link QuotaStore.QuotaStore}. A call goes only when its cost
   * fits in what the server said remains minus the calls already in flight;
   * otherwise every caller of the key waits for the reset. The configured
   * limit still holds when it is the lower one.
   */
  readonly adaptive?: boolean | undefined
  /** How adaptive mode reads the server's headers. Default: `RateLimitHeaders.parse`. */
  readonly headers?: RateLimitHeaders.Parser | undefined
  /** At most `maxConcurrent` calls in flight per key, `maxQueue` more waiting; beyond that, BulkheadFull. */
  readonly bulkhead?: { readonly maxConcurrent: number; readonly maxQueue: number } | undefined
}

/**
 * The stores a limiter needs.
 *
 * @since 0.1.0
 * @category services
 */
export type Stores = RateLimiter.RateLimiterStore | QuotaStore.QuotaStore

/**
 * In-memory stores (limiter counters and the servers' quotas) for one process.
 * Both forget idle keys (a limiter key once its window has passed, a quota key
 * once idle for 10 minutes), so a million keys touched
 * once do not stay in memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Stores> = Layer.merge(
  LimiterStore.layer,
  QuotaStore.QuotaStore.layerMemory
)

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

/**
 * Adaptive mode's metrics, each tagged with `key`:
 * `apikit_rate_limit_quota_remaining` (gauge: what the server says is left,
 * minus calls in flight), `apikit_rate_limit_wait_seconds` (histogram: how long
 * calls waited for the server's quota), `apikit_rate_limit_429_avoided_total`
 * (calls held back because the server's quota said they would be refused) and
 * `apikit_rate_limit_429_received_total` (429s, and 503s with Retry-After,
 * received anyway). Keys are labels: keep them per integration or route.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = {
  quotaRemaining: Metrics.remaining,
  waitSeconds: Metrics.wait,
  avoided: Metrics.avoided,
  received: Metrics.received
} as const

/** A parsed header set as absolute times. */
const observation = (info: RateLimitHeaders.RateLimitInfo, now: number): QuotaStore.Observation => ({
  limit: info.limit,
  remaining: info.remaining,
  resetAt: info.reset === undefined ? undefined : now + Duration.toMillis(info.reset),
  window: info.window === undefined ? undefined : Duration.toMillis(info.window)
})

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
 * @category constructors
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
    // apikit's memory store answers synchronously: decisions then take no Effect of their own.
    const syncLimiter = LimiterStore.syncOf(yield* RateLimiter.RateLimiterStore)
    const refillMillis = LimiterStore.refillMillis(window, options.limit)
    const quotas = yield* QuotaStore.QuotaStore
    const parseHeaders = options.headers ?? RateLimitHeaders.parse
    const sync = Quota.syncOf(quotas)
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

    /** Sleeps `millis` (when there are any), then continues with whether it waited. */
    const waitThen = <A, E>(millis: number, k: (waited: boolean) => Effect.Effect<A, E>) =>
      millis === 0 ? k(false) : Effect.zipRight(Effect.sleep(Duration.millis(millis)), k(true))

    /**
     * {@link permit} on apikit's memory store: the same decisions as through
     * `RateLimiter.consume`, taken as function calls at `now`.
     */
    const permitNow = <A, E>(
      store: LimiterStore.SyncStore,
      now: number,
      key: string,
      context: Policy.CallContext,
      k: (waited: boolean) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | ApiError.RateLimited> => {
      const tokens = context.cost
      const decide = (onExceeded: "delay" | "fail") =>
        LimiterStore.decide(store, key, now, tokens, limit, windowMillis, refillMillis, algorithm, onExceeded)
      if (!failFast && maxWaitMillis === undefined && context.deadline === undefined) {
        return waitThen(decide("delay"), k)
      }
      // Bounded waits ask first without reserving (see below).
      const refusedFor = decide("fail")
      if (refusedFor === 0) return k(false)
      if (failFast || !fits(context, now, refusedFor)) {
        return Effect.fail(rejected(context, key, Duration.millis(refusedFor)))
      }
      const wait = decide("delay")
      // Another caller reserved first; this permit is spent, which errs on the safe side.
      return fits(context, now, wait) ? waitThen(wait, k) : Effect.fail(rejected(context, key, Duration.millis(wait)))
    }

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
      if (syncLimiter !== undefined) {
        return Effect.clockWith((clock) => permitNow(syncLimiter, clock.unsafeCurrentTimeMillis(), key, context, k))
      }
      type Out = Effect.Effect<A, E | ApiError.RateLimited>
      const reserved = (allowed: (waitMillis: number) => boolean): Out =>
        Effect.matchEffect(consume(key, tokens, "delay"), {
          onFailure: (error): Out =>
            error.reason === "StoreError"
              ? Effect.zipRight(storeDown(key, error), k(false))
              : Effect.fail(rejected(context, key, error.retryAfter)),
          onSuccess: (result): Out =>
            allowed(Duration.toMillis(result.delay))
              ? waitThen(Duration.toMillis(result.delay), k)
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
          return Effect.flatMap(
            Clock.currentTimeMillis,
            (now) =>
              fits(context, now, Duration.toMillis(error.retryAfter))
                ? reserved((waitMillis) => fits(context, now, waitMillis))
                : Effect.fail(rejected(context, key, error.retryAfter))
          )
        }
      })
    }

    /**
     * Tells the store how an answered call went; a store failure is logged and
     * forgotten. Returns undefined when it is done already (the memory store's
     * common answer, which says nothing about the quota).
     */
    const answered = (
      key: string,
      context: Policy.CallContext,
      epoch: number,
      admittedAt: number,
      response: Policy.ApiResponse
    ): Effect.Effect<void> | undefined => {
      const cost = context.cost
      const reported = response.rateLimit
      if (
        sync !== undefined && reported === undefined && !RateLimitHeaders.mentions(response.headers) &&
        options.headers === undefined
      ) {
        sync.settle(key, admittedAt, cost, epoch, true, undefined, windowMillis)
        return undefined
      }
      return Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        // A quota the answer reported outside its headers (a GraphQL cost report) comes first.
        const info = reported ?? parseHeaders(response.headers, now)
        return recordAt(
          key,
          now,
          { cost, epoch, sent: true },
          info === undefined ? undefined : observation(info, now)
        )
      })
    }

    /** Tells the store how a failed call went; a store failure is logged and forgotten. */
    const failed = (
      key: string,
      context: Policy.CallContext,
      epoch: number,
      cause: Cause.Cause<ApiError.ApiError>
    ): Effect.Effect<void> => {
      const cost = context.cost
      const error = Cause.failureOption(cause)
      if (Option.isSome(error) && error.value._tag === "RateLimited") {
        const e = error.value
        // Refused by this client (the configured limit, a bulkhead): never sent.
        if (e.reason === "ClientLimit" || e.reason === "BulkheadFull") {
          return record(key, { cost, epoch, sent: false }, undefined)
        }
        return Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          const after = e.retryAfter === undefined ? undefined : Duration.toMillis(e.retryAfter)
          // A custom parser reads the refusal's own headers too (the standard one already did, into rateLimit).
          const raw = options.headers === undefined ? undefined : ApiError.responseHeaders(e)
          const custom = raw === undefined ? undefined : parseHeaders(raw, now)
          const info = custom ?? e.rateLimit
          const said = info === undefined ? {} : observation(info, now)
          return Effect.zipRight(
            Metric.update(Metrics.received.pipe(Metric.taggedWithLabels(Metrics.labelsOf(key))), 1).pipe(
              Effect.zipRight(
                Effect.logInfo(`apikit rate limit: "${key}" paused by the server`).pipe(
                  Effect.annotateLogs({ key, status: e.status ?? e.reason, retryAfterMillis: after ?? 0 })
                )
              )
            ),
            record(key, { cost, epoch, sent: true }, {
              ...said,
              remaining: 0,
              ...(after === undefined ? {} : { pauseUntil: now + after }),
              resetAt: Math.max(said.resetAt ?? now, after === undefined ? now : now + after)
            })
          )
        })
      }
      // Any other failure: the server (probably) counted it; the store charges it.
      return record(key, { cost, epoch, sent: true }, undefined)
    }

    const record = (
      key: string,
      ticket: QuotaStore.Ticket,
      said: QuotaStore.Observation | undefined
    ): Effect.Effect<void> =>
      sync === undefined
        ? recordAt(key, 0, ticket, said)
        : Effect.clockWith((clock) => recordAt(key, clock.unsafeCurrentTimeMillis(), ticket, said))

    /** Tells the store (at `now`, for the memory store's synchronous path) how a call went. */
    const recordAt = (
      key: string,
      now: number,
      ticket: QuotaStore.Ticket,
      said: QuotaStore.Observation | undefined
    ): Effect.Effect<void> => {
      if (sync !== undefined) {
        const snapshot = sync.settle(key, now, ticket.cost, ticket.epoch, ticket.sent, said, windowMillis)
        return said === undefined ? Effect.void : recorded(key, snapshot)
      }
      return Effect.matchEffect(quotas.release(key, ticket, said, windowMillis), {
        onFailure: (error) => quotaStoreDown(key, error),
        onSuccess: (snapshot) => said === undefined ? Effect.void : recorded(key, snapshot)
      })
    }

    /** What an answer taught: the quota gauge, and a warning when the server's limit is not the configured one. */
    const recorded = (key: string, snapshot: QuotaStore.Snapshot): Effect.Effect<void> =>
      Effect.zipRight(
        snapshot.available === undefined
          ? Effect.void
          : Metric.set(Metrics.remaining.pipe(Metric.taggedWithLabels(Metrics.labelsOf(key))), snapshot.available),
        snapshot.changed ? misconfigured(key, snapshot) : Effect.void
      )

    /** The server's limit is not the configured one: say so once per change, with both. */
    const misconfigured = (key: string, snapshot: QuotaStore.Snapshot): Effect.Effect<void> => {
      const serverLimit = snapshot.limit
      const serverWindow = snapshot.window ?? windowMillis
      if (serverLimit === undefined || serverLimit * windowMillis === limit * serverWindow) return Effect.void
      const lower = serverLimit / serverWindow < limit / windowMillis
      return Effect.logWarning(
        lower
          ? `apikit rate limit: the server allows "${key}" less than configured; following the server's limit`
          : `apikit rate limit: the server allows "${key}" more than configured; the configured limit still holds`
      ).pipe(Effect.annotateLogs({
        key,
        configured: `${limit}/${Duration.format(window)}`,
        server: `${serverLimit}/${Duration.format(Duration.millis(serverWindow))}`
      }))
    }

    /**
     * Takes a configured permit, then asks the learned quota. When the quota
     * says wait for its reset, the caller waits and asks the quota again: at
     * the reset the quota admits what the server allows (capped to the
     * configured limit when the server names its window), so its permit still
     * stands. When the key is paused (a 429's Retry-After, the server's limit
     * maybe unknown) it starts over after the pause with a fresh permit: the
     * old one belongs to a window long gone, and firing with everyone else the
     * instant the pause ends is what the configured limit is there to prevent.
     */
    const attempt = (
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      key: string,
      next: Policy.Send,
      waited: number
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
      // Both memory stores: one clock read for the permit and the quota, unless the permit waited.
      if (syncLimiter !== undefined && sync !== undefined && context.cost > 0 && context.cost <= limit) {
        return Effect.clockWith((clock) => {
          const now = clock.unsafeCurrentTimeMillis()
          return permitNow(syncLimiter, now, key, context, (waitedForPermit) =>
            waitedForPermit
              ? admitted(request, context, key, next, waited)
              : admitAt(sync, now, request, context, key, next, waited))
        })
      }
      return permit(key, context, () => admitted(request, context, key, next, waited))
    }

    /** The learned quota's admission on the memory store, at `now`. */
    const admitAt = (
      store: Quota.SyncStore,
      now: number,
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      key: string,
      next: Policy.Send,
      waited: number
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
      onAdmission(store.acquire(key, now, context.cost, limit, windowMillis), now, request, context, key, next, waited)

    const admitted = (
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      key: string,
      next: Policy.Send,
      waited: number
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
      sync !== undefined
        ? Effect.clockWith((clock) =>
          admitAt(sync, clock.unsafeCurrentTimeMillis(), request, context, key, next, waited)
        )
        : Effect.matchEffect(quotas.acquire(key, context.cost, limit, windowMillis), {
          onFailure: (error) => Effect.zipRight(quotaStoreDown(key, error), next(request, context)),
          onSuccess: (admission) => onAdmission(admission, 0, request, context, key, next, waited)
        })

    const onAdmission = (
      admission: QuotaStore.Admission,
      /** When it was admitted (the memory store's path; 0 otherwise). */
      admittedAt: number,
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      key: string,
      next: Policy.Send,
      waited: number
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
      switch (admission._tag) {
        case "Admitted": {
          // How the call ended reaches the store on success and failure. A call its fiber is
          // interrupted out of is not settled (an exit hook that sees interruption costs twice
          // the whole decision): the server may have counted it, so it stays counted in flight
          // in its epoch and the next (internal/quota.ts says how long each can last).
          const sent = Effect.matchCauseEffect(next(request, context), {
            onSuccess: (response) => {
              const told = answered(key, context, admission.epoch, admittedAt, response)
              return told === undefined ? Effect.succeed(response) : Effect.as(told, response)
            },
            onFailure: (cause) => Effect.zipRight(failed(key, context, admission.epoch, cause), Effect.failCause(cause))
          })
          return waited === 0 ? sent : Effect.zipRight(
            Metric.update(Metrics.wait.pipe(Metric.taggedWithLabels(Metrics.labelsOf(key))), waited / 1000),
            sent
          )
        }
        case "TooCostly":
          return Effect.fail(rejected(context, key, undefined))
        case "Wait":
          return Effect.clockWith((clock) => {
            const now = clock.unsafeCurrentTimeMillis()
            const wait = Math.max(1, admission.until - now)
            const held = waited === 0
              ? Metric.update(Metrics.avoided.pipe(Metric.taggedWithLabels(Metrics.labelsOf(key))), 1)
              : Effect.void
            if (failFast || !fits(context, now, wait)) {
              return Effect.zipRight(held, Effect.fail(rejected(context, key, Duration.millis(wait))))
            }
            // The reset may move while we sleep: ask again after it.
            return held.pipe(
              Effect.zipRight(Effect.sleep(Duration.millis(wait))),
              Effect.zipRight(
                admission.paused
                  ? attempt(request, context, key, next, waited + wait)
                  : admitted(request, context, key, next, waited + wait)
              )
            )
          })
      }
    }

    const quotaStoreDown = (key: string, error: QuotaStore.QuotaStoreError) =>
      Effect.logWarning(`apikit rate limit: the quota store failed; sending without the server's quota`).pipe(
        Effect.annotateLogs({ key, error: error.message })
      )

    const send = (next: Policy.Send): Policy.Send =>
      options.adaptive === true
        ? (request, context) => attempt(request, context, keyOf(context), next, 0)
        : (request, context) => {
          const key = keyOf(context)
          if (
            syncLimiter !== undefined || bounded || context.deadline !== undefined || context.cost > limit ||
            context.cost <= 0
          ) {
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
