/**
 * A keyed circuit breaker: the `circuitBreaker` slot of an ApiClient, and a
 * guard around any Effect. It fails calls fast with `CircuitOpen` while the
 * dependency is down, then lets a few probes through to find out whether it is back.
 *
 * @since 0.1.0
 * @example
 * import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
 * import { ApiClient } from "@apikit/http"
 * import { Effect, Schedule } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({
 *     trip: CircuitBreaker.failureRate({ threshold: 0.5, window: 20 }),
 *     openDuration: Schedule.exponential("10 seconds"),
 *     maxOpenDuration: "5 minutes"
 *   })
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.example.com", circuitBreaker: breaker })
 *   return yield* api.get("/v1/status")
 * }).pipe(Effect.provide(CircuitBreakerStore.layerMemory))
 */
import type { ApiError } from "@apikit/http/ApiError"
import * as ApiErrors from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as PubSub from "effect/PubSub"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Store from "./CircuitBreakerStore.js"
import * as announcer from "./internal/announce.js"
import * as metrics from "./internal/metrics.js"
import * as openDuration from "./internal/openDuration.js"
import * as sync from "./internal/sync.js"
import * as trip from "./internal/trip.js"

/**
 * Opens the circuit after `failures` failures in a row (default 5).
 *
 * @since 0.1.0
 * @category trip policies
 */
export const consecutive: (failures?: number) => Store.TripPolicy = trip.consecutive

/**
 * Opens the circuit when at least `threshold` (a fraction, e.g. 0.5) of the last
 * `window` calls failed, once at least `minimumCalls` (default: `window`) were seen.
 *
 * @since 0.1.0
 * @category trip policies
 */
export const failureRate: (options: {
  readonly threshold: number
  readonly window: number
  readonly minimumCalls?: number | undefined
}) => Store.TripPolicy = trip.failureRate

/**
 * Opens the circuit when at least `threshold` of the calls of the last
 * `duration` failed, once at least `minimumThroughput` (default 10) calls were seen in it.
 *
 * @since 0.1.0
 * @category trip policies
 */
export const failureRateTimed: (options: {
  readonly threshold: number
  readonly duration: Duration.DurationInput
  readonly minimumThroughput?: number | undefined
}) => Store.TripPolicy = trip.failureRateTimed

/**
 * Opens the circuit when at least `threshold` of recent calls took longer than
 * `slowerThan`, measured over the last `window` calls (default 100) or, when
 * `duration` is given, over that time. A slow probe also reopens a half-open circuit.
 *
 * @since 0.1.0
 * @category trip policies
 */
export const slowCallRate: (options: {
  readonly threshold: number
  readonly slowerThan: Duration.DurationInput
  readonly window?: number | undefined
  readonly duration?: Duration.DurationInput | undefined
  readonly minimumCalls?: number | undefined
}) => Store.TripPolicy = trip.slowCallRate

/**
 * The breaker's Effect metrics, tagged `key` (and `outcome` for calls):
 * `apikit_circuit_breaker_state` (gauge: 0 closed, 1 half-open, 2 open, 3 isolated),
 * `apikit_circuit_breaker_calls_total` (outcome: success, failure, ignored) and
 * `apikit_circuit_breaker_rejections_total`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const Metrics = {
  state: metrics.stateGauge,
  calls: metrics.calls,
  rejections: metrics.rejections
} as const

/**
 * How one call's error counts: against the dependency's health, for it, or not at all.
 *
 * @since 0.1.0
 * @category classification
 */
export type Verdict = "failure" | "success" | "ignore"

/**
 * The default verdicts: Timeout, Transport and 5xx are failures; other
 * responses (4xx) prove the server is up, so they are successes; rate limiting
 * (429, 503 with Retry-After, the client's own limiter and bulkhead) and
 * `CircuitOpen` are load shedding and are ignored, as are calls that were never
 * sent (InvalidRequest) and credential failures. Errors that are not ApiErrors
 * (when guarding any Effect) are failures.
 *
 * @since 0.1.0
 * @category classification
 * @example
 * import { CircuitBreaker } from "@apikit/circuit-breaker"
 *
 * // Also count 403 as a failure (a provider that answers 403 when overloaded).
 * const classify = (error: unknown) =>
 *   typeof error === "object" && error !== null && "_tag" in error && error._tag === "Forbidden"
 *     ? "failure"
 *     : CircuitBreaker.defaultClassify(error)
 */
export const defaultClassify = (error: unknown): Verdict => {
  if (!ApiErrors.isApiError(error)) return "failure"
  switch (error._tag) {
    case "Timeout":
    case "Transport":
    case "ServerError":
      return "failure"
    case "RateLimited":
    case "CircuitOpen":
    case "InvalidRequest":
    case "AuthError":
    case "ReauthorizationRequired":
      return "ignore"
    default:
      return "success"
  }
}

/**
 * How a breaker is built. Every field has a default.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The circuit key: a string, or one per call (default: the ApiClient's name, `context.client`). */
  readonly key?: string | ((context: Policy.CallContext) => string) | undefined
  /** When to open; several policies open on the first that trips (default: 5 consecutive failures). */
  readonly trip?: Store.TripPolicy | ReadonlyArray<Store.TripPolicy> | undefined
  /** How long to stay open: fixed, or a Schedule whose n-th delay is used for the n-th open in a row (default 30 seconds). */
  readonly openDuration?: Duration.DurationInput | Schedule.Schedule<unknown, unknown> | undefined
  /** The cap on any open duration, Retry-After hints included (default 10 minutes). */
  readonly maxOpenDuration?: Duration.DurationInput | undefined
  readonly halfOpen?: {
    /** Successful probes needed to close; also the most probes in flight at once (default 1). */
    readonly probes?: number | undefined
    /** How long a probe slot stays taken if its call never reports (default 1 minute, or the attempt timeout + 1 second). */
    readonly lease?: Duration.DurationInput | undefined
  } | undefined
  /** How errors count (default {@link defaultClassify}). Interruption is always ignored; defects are failures. */
  readonly classify?: ((error: unknown) => Verdict) | undefined
}

/**
 * The breaker's options are not usable (a threshold outside (0, 1], a window
 * below 1, a negative duration, ...). `detail` lists every problem.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidBreakerConfig extends Schema.TaggedError<InvalidBreakerConfig>()("InvalidBreakerConfig", {
  detail: Schema.String
}) {
  override get message() {
    return `The circuit breaker options are invalid: ${this.detail}. Fix the options passed to CircuitBreaker.make.`
  }
}

/**
 * A breaker: a policy for the ApiClient `circuitBreaker` slot, plus its state
 * changes, manual controls and a reader of each circuit.
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker extends Policy.CircuitBreakerPolicy {
  /** Every state change of every circuit this breaker drives, from the moment of subscribing. */
  readonly events: Stream.Stream<Store.Transition>
  /** Subscribes now (for the life of the scope) and returns the state changes from this moment on. */
  readonly subscribe: Effect.Effect<Stream.Stream<Store.Transition>, never, Scope.Scope>
  /** Forces a circuit open (rejecting every call with `CircuitOpen`) until {@link CircuitBreaker.reset}. */
  readonly isolate: (key?: string) => Effect.Effect<void>
  /** Closes a circuit and forgets its history. */
  readonly reset: (key?: string) => Effect.Effect<void>
  /** Reads a circuit. */
  readonly state: (key?: string) => Effect.Effect<Store.Snapshot>
  /** Runs `effect` through the circuit `key` (default: the breaker's string key, else "default"). */
  readonly guard: <A, E, R>(effect: Effect.Effect<A, E, R>, key?: string) => Effect.Effect<
    A,
    E | ApiErrors.CircuitOpen,
    R
  >
}

/**
 * Makes a breaker over the {@link Store.CircuitBreakerStore} in context. Fails
 * with {@link InvalidBreakerConfig} when the options make no sense.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ key: "payments", trip: CircuitBreaker.consecutive(3) })
 *   return yield* breaker.guard(Effect.tryPromise(() => fetch("https://payments.example.com/health")))
 * }).pipe(Effect.provide(CircuitBreakerStore.layerMemory))
 */
export const make = (
  options: Options = {}
): Effect.Effect<CircuitBreaker, InvalidBreakerConfig, Store.CircuitBreakerStore> =>
  Effect.gen(function*() {
    const store = yield* Store.CircuitBreakerStore
    // The Clock is read per call, from the caller's context, like every other policy.
    const now = Clock.currentTimeMillis
    const policies = trip.policiesOf(options.trip)
    const probes = options.halfOpen?.probes ?? 1
    const invalid = trip.problems(options, policies, probes)
    if (invalid.length > 0) return yield* new InvalidBreakerConfig({ detail: invalid.join("; ") })

    const config: Store.Config = { trip: policies, probes }
    const timed = trip.isTimed(policies)
    const classify = options.classify ?? defaultClassify
    const leaseMillis = trip.millisOf(options.halfOpen?.lease ?? Duration.minutes(1))
    const fixedKey = typeof options.key === "string" ? options.key : undefined
    const keyOf = typeof options.key === "function" ? options.key : (context: Policy.CallContext) => context.client
    const defaultKey = fixedKey ?? "default"
    const openMillisFor = openDuration.make(options)

    const pubsub = yield* PubSub.unbounded<Store.Transition>()
    const announce = announcer.make(pubsub)

    type Admitted = Exclude<Store.Permit, { readonly _tag: "Rejected" }>
    // Stores that answer synchronously (the memory store) save two effect steps per call.
    const fast = sync.of(store)
    const unsafeAcquire = fast?.acquire
    const unsafeRecord = fast?.record

    /** Classifies how an admitted call ended and records it; yields the transition it caused, if any. */
    const settle = (
      key: string,
      permit: Admitted,
      cause: Cause.Cause<unknown> | undefined,
      start: number,
      clock: Clock.Clock
    ): Effect.Effect<Store.Transition | undefined> => {
      // A closed circuit's successes need the end time only for slow calls and time windows.
      const at = cause === undefined && permit._tag === "Call" && !timed ? start : clock.unsafeCurrentTimeMillis()
      let tag: Store.Outcome["_tag"] = "Success"
      let error: unknown = undefined
      if (cause !== undefined) {
        if (Cause.isInterruptedOnly(cause)) {
          tag = "Ignored"
        } else {
          const failure = Cause.failureOption(cause)
          if (failure._tag === "Some") {
            error = failure.value
            const verdict = classify(error)
            tag = verdict === "failure" ? "Failure" : verdict === "success" ? "Success" : "Ignored"
          } else {
            tag = "Failure" // a defect
          }
        }
      }
      metrics.call(key, tag)
      const outcome: Store.Outcome = { _tag: tag, durationMillis: at - start }
      if (tag === "Failure") {
        return Effect.flatMap(
          openMillisFor(permit.opened, error),
          (openMillis) => store.record({ key, config, permit, outcome, openMillis, now: at })
        )
      }
      const request = { key, config, permit, outcome, openMillis: 0, now: at }
      return unsafeRecord === undefined ? store.record(request) : Effect.succeed(unsafeRecord(request))
    }

    // The handlers are returned by factories (not written inline as named arrows) so a
    // call allocates two plain closures: dev transpilers that keep function names
    // (tsx, esbuild keepNames) would otherwise rename fresh closures on every call.
    const onSuccess = (key: string, permit: Admitted, start: number, clock: Clock.Clock) =>
    <A>(
      a: A
    ): Effect.Effect<A> => {
      if (unsafeRecord !== undefined && permit._tag === "Call" && !timed) {
        metrics.call(key, "Success")
        const t = unsafeRecord({
          key,
          config,
          permit,
          outcome: { _tag: "Success", durationMillis: 0 },
          openMillis: 0,
          now: start
        })
        return t === undefined ? Effect.succeed(a) : Effect.as(announce(t), a)
      }
      return Effect.flatMap(
        settle(key, permit, undefined, start, clock),
        (t) => t === undefined ? Effect.succeed(a) : Effect.as(announce(t), a)
      )
    }
    const onFailure =
      (key: string, permit: Admitted, start: number, clock: Clock.Clock) =>
      <E>(cause: Cause.Cause<E>): Effect.Effect<never, E> =>
        Effect.flatMap(
          settle(key, permit, cause, start, clock),
          (t) => t === undefined ? Effect.failCause(cause) : Effect.zipRight(announce(t), Effect.failCause(cause))
        )

    /** Runs an admitted call and records how it ended, passing its result through. */
    const observe = <A, E, R>(
      effect: Effect.Effect<A, E, R>,
      key: string,
      permit: Admitted,
      start: number,
      clock: Clock.Clock
    ) =>
      Effect.matchCauseEffect(effect, {
        onSuccess: onSuccess(key, permit, start, clock)<A>,
        onFailure: onFailure(key, permit, start, clock)<E>
      })

    // The hot path (a closed circuit) runs without an uninterruptible region: an
    // interrupted call is ignored anyway, so skipping its record loses nothing. A
    // probe must give its lease back on interruption, so it runs masked. (An
    // interruption landing between the grant and the mask, or during a remote
    // store's round trip, is what lease expiry is for.)
    const admit = <A, E, R>(
      { permit, transition }: Store.Acquired,
      effect: Effect.Effect<A, E, R>,
      key: string,
      start: number,
      clock: Clock.Clock,
      rejected: (retryAfter: Duration.Duration) => ApiErrors.CircuitOpen
    ): Effect.Effect<A, E | ApiErrors.CircuitOpen, R> => {
      switch (permit._tag) {
        case "Call":
          return transition === undefined
            ? observe(effect, key, permit, start, clock)
            : Effect.zipRight(announce(transition), observe(effect, key, permit, start, clock))
        case "Probe":
          return Effect.uninterruptibleMask((restore) =>
            // Inside the mask, the failure handler runs even when the probe is interrupted.
            Effect.zipRight(announce(transition), observe(restore(effect), key, permit, start, clock))
          )
        case "Rejected": {
          metrics.rejected(key)
          const fail = Effect.fail(rejected(Duration.millis(permit.retryAfterMillis)))
          return transition === undefined ? fail : Effect.zipRight(announce(transition), fail)
        }
      }
    }

    let lastServices: Context.Context<never> | undefined
    let lastClock: Clock.Clock | undefined
    const run = <A, E, R>(
      effect: Effect.Effect<A, E, R>,
      key: string,
      lease: number,
      rejected: (retryAfter: Duration.Duration) => ApiErrors.CircuitOpen
    ): Effect.Effect<A, E | ApiErrors.CircuitOpen, R> =>
      Effect.withFiberRuntime((fiber) => {
        // The caller's Clock (TestClock in tests), read per call; the lookup is skipped while the
        // fiber's default services are the ones seen last (nearly always: they change with withClock).
        const services = fiber.currentDefaultServices
        if (services !== lastServices) {
          lastServices = services
          lastClock = Context.get(services, Clock.Clock)
        }
        const clock = lastClock!
        const start = clock.unsafeCurrentTimeMillis()
        const request = { key, config, now: start, leaseMillis: lease }
        return unsafeAcquire === undefined
          ? Effect.flatMap(store.acquire(request), (acquired) => admit(acquired, effect, key, start, clock, rejected))
          : admit(unsafeAcquire(request), effect, key, start, clock, rejected)
      })

    const circuitOpen = (method: string, url: string, key: string) => (retryAfter: Duration.Duration) =>
      new ApiErrors.CircuitOpen({ method, url, key, retryAfter })

    const breaker: CircuitBreaker = {
      ...Policy.make(
        "circuitBreaker",
        `circuitBreaker(${policies.map((p) => p._tag).join("+")})`,
        (next) => (request, context) => {
          const key = fixedKey ?? keyOf(context)
          // A probe cannot outlive its attempt timeout, so its slot is freed soon after even if nobody reports.
          const lease = context.attemptTimeout === undefined
            ? leaseMillis
            : Math.min(leaseMillis, Duration.toMillis(context.attemptTimeout) + 1000)
          return run(
            next(request, context),
            key,
            lease,
            circuitOpen(context.method, context.url, key)
          ) as Effect.Effect<
            Policy.ApiResponse,
            ApiError
          >
        },
        // It never waits: an open circuit fails at once.
        { honorsDeadline: true }
      ),
      events: Stream.fromPubSub(pubsub),
      subscribe: Stream.fromPubSub(pubsub, { scoped: true }),
      isolate: (key = defaultKey) =>
        Effect.flatMap(now, (at) => Effect.flatMap(store.isolate({ key, now: at }), announce)),
      reset: (key = defaultKey) => Effect.flatMap(now, (at) => Effect.flatMap(store.reset({ key, now: at }), announce)),
      state: (key = defaultKey) => Effect.flatMap(now, (at) => store.snapshot({ key, now: at })),
      guard: (effect, key = defaultKey) => run(effect, key, leaseMillis, circuitOpen("*", `circuit:${key}`, key))
    }
    return breaker
  })

/**
 * Runs an effect through a breaker's circuit (`key` defaults to the breaker's
 * string key, else "default"). Pipeable.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
 * import { Effect } from "effect"
 *
 * const guarded = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(3) })
 *   return yield* Effect.tryPromise(() => fetch("https://example.com")).pipe(
 *     CircuitBreaker.withBreaker(breaker, { key: "example" })
 *   )
 * }).pipe(Effect.provide(CircuitBreakerStore.layerMemory))
 */
export const withBreaker: {
  (
    breaker: CircuitBreaker,
    options?: { readonly key?: string | undefined }
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ApiErrors.CircuitOpen, R>
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    breaker: CircuitBreaker,
    options?: { readonly key?: string | undefined }
  ): Effect.Effect<A, E | ApiErrors.CircuitOpen, R>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(
    self: Effect.Effect<A, E, R>,
    breaker: CircuitBreaker,
    options?: { readonly key?: string | undefined }
  ): Effect.Effect<A, E | ApiErrors.CircuitOpen, R> => breaker.guard(self, options?.key)
)
