/**
 * The policy slots of the ApiClient pipeline, and the contract their
 * implementations (in `@apikit/auth`, `@apikit/retry`, `@apikit/rate-limit`,
 * `@apikit/circuit-breaker`) fulfil.
 *
 * A call runs through the slots in a fixed order, outermost first:
 *
 * ```
 * deadline (whole call)   one budget for all attempts
 *   cache                 serves fresh stored responses; revalidates stale ones (@apikit/cache)
 *   retry                 re-runs what is inside on transient errors
 *     auth                stamps credentials; on 401 refreshes once and replays through the stages below
 *       circuit breaker   fails fast when the dependency is down; sees every attempt, the replay included
 *         rate limiter    one permit per attempt, the replay included; learns from server headers
 *           attempt timeout
 *             transport   the platform HttpClient from context
 * decode                  Schema-validated body → typed value
 * ```
 *
 * Each slot is a {@link Policy}: a function from the next stage's {@link Send}
 * to a new one. The ApiClient composes them once, when it is made, so the
 * order is the client's decision, never the caller's.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpMethod from "@effect/platform/HttpMethod"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ApiError from "./ApiError.js"
import * as timeout from "./internal/timeout.js"

/**
 * A 2xx response whose body was read (bounded by `maxResponseBytes`). Non-2xx
 * responses never reach the policies as values: they are classified into
 * {@link ApiError} inside the attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface ApiResponse {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: Uint8Array
  /**
   * What the answer reported about the quota outside its headers (a GraphQL
   * cost report in points, set by the GraphQL client's response check). An
   * adaptive rate limiter reads it instead of the rate-limit headers.
   */
  readonly rateLimit?: ApiError.RateLimitInfo | undefined
}

/**
 * What a policy knows about the call it is running. It never holds a secret:
 * `url` is already masked.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallContext {
  /** The integration's name (ApiClient `name`, by default the base URL's host): the default key of keyed policies. */
  readonly client: string
  readonly method: HttpMethod.HttpMethod
  /** The request URL, secrets masked. */
  readonly url: string
  readonly host: string
  /** The path template, e.g. `/v1/projects/:id`, for spans and metrics. */
  readonly route: string
  /** True for GET/HEAD/PUT/DELETE/OPTIONS, any call carrying an idempotency key, and calls declared idempotent. */
  readonly idempotent: boolean
  /** Whether the request body can be sent again (buffered bodies can; streams cannot). */
  readonly replayable: boolean
  /** When the whole call must be over, in epoch milliseconds on the Effect `Clock`. */
  readonly deadline: number | undefined
  /** The timeout of one attempt, if any. */
  readonly attemptTimeout: Duration.Duration | undefined
  /** The timeout of the whole call that set `deadline`, for the `Timeout` error it produces. */
  readonly totalTimeout?: Duration.Duration | undefined
  /** 1 for the first attempt; the retry policy increments it. */
  readonly attempt: number
  /** Units of rate-limit budget this call consumes (default 1). */
  readonly cost: number
  /**
   * Whose credential the call carries, as the auth policy's {@link Policy.identity}
   * (never the secret). A cache scopes stored responses by it.
   */
  readonly identity?: Effect.Effect<string> | undefined
  /**
   * The request is conditional (If-None-Match / If-Modified-Since) and its
   * sender handles `304 Not Modified`: a 304 comes back as a response with an
   * empty body instead of an `UnexpectedStatus` error. Set by the cache stage.
   */
  readonly notModified?: boolean | undefined
  /**
   * The caller reads the body as a stream (`ApiClient.stream`): a 2xx response
   * reaches the policies when its head arrives, with an empty `body`, and the
   * body follows to the caller. A cache passes such calls through.
   */
  readonly streamed?: boolean | undefined
}

/**
 * One stage of the pipeline: send a request, get a read 2xx response or an
 * {@link ApiError}. Policies receive everything they need as arguments, so a
 * composed pipeline has no requirements left.
 *
 * @since 0.1.0
 * @category models
 */
export type Send = (
  request: HttpClientRequest.HttpClientRequest,
  context: CallContext
) => Effect.Effect<ApiResponse, ApiError.ApiError>

/**
 * The slots of the pipeline, outermost first: the one place their order is
 * written. ApiClient composes the policies of a client in this order (an
 * `ApiClient.Options` field per slot, named like it); moving a slot here
 * moves it in every client.
 *
 * @since 0.1.0
 * @category slots
 */
export const slots = ["cache", "retry", "auth", "circuitBreaker", "rateLimit"] as const

/**
 * The name of a slot of the pipeline.
 *
 * @since 0.1.0
 * @category slots
 */
export type Slot = typeof slots[number]

/**
 * A policy wraps the next stage of the pipeline. Its `slot` says where it
 * goes, so a retry policy cannot be passed as an auth policy by mistake.
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy<S extends Slot = Slot> {
  readonly slot: S
  /** A short name for logs and docs, e.g. "retry(transient)". */
  readonly name: string
  readonly wrap: (next: Send) => Send
  /**
   * The policy promises that it never makes a call outlast `context.deadline`:
   * every wait it adds (backoff, a permit, a pause) is refused when it would
   * pass the deadline, and any I/O of its own that could (a token request) is
   * bounded by it (see {@link withinDeadline}). A store round trip (memory or
   * Redis, bounded by the store's own command timeout) does not count as a wait.
   *
   * When every policy of a client promises this, ApiClient enforces the total
   * timeout cooperatively: each attempt's timer is clamped to the deadline and
   * no watcher fiber is forked per call (12–15 µs of CPU per call, measured:
   * a quarter of a full-pipeline call). Otherwise it keeps the watcher, which
   * interrupts whatever runs when the deadline passes. Unset means no promise.
   */
  readonly honorsDeadline?: boolean | undefined
  /**
   * Auth policies: whose credential this is, as a string that is safe to
   * store and show (a fingerprint of a static secret, the principal of a
   * renewable one). Calls carry it as {@link CallContext.identity}.
   */
  readonly identity?: Effect.Effect<string> | undefined
}

/**
 * The cache slot: answers from stored responses, revalidates them, coalesces identical reads.
 *
 * @since 0.1.0
 * @category slots
 */
export type CachePolicy = Policy<"cache">

/**
 * The auth slot: stamps credentials on each attempt; may refresh and replay once on 401.
 *
 * @since 0.1.0
 * @category slots
 */
export type AuthPolicy = Policy<"auth">

/**
 * The rate-limit slot: one permit per attempt, waiting or failing with `RateLimited`.
 *
 * @since 0.1.0
 * @category slots
 */
export type RateLimitPolicy = Policy<"rateLimit">

/**
 * The circuit-breaker slot: fails fast with `CircuitOpen`, records each attempt's outcome.
 *
 * @since 0.1.0
 * @category slots
 */
export type CircuitBreakerPolicy = Policy<"circuitBreaker">

/**
 * The retry slot: re-runs the inner pipeline on transient errors, within the deadline.
 *
 * @since 0.1.0
 * @category slots
 */
export type RetryPolicy = Policy<"retry">

/**
 * Makes a policy for a slot from a name and a wrapping function.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Policy } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
 *
 * // An auth policy that stamps a static header.
 * const stamp = Policy.make("auth", "static-header", (next) => (request, context) =>
 *   next(HttpClientRequest.setHeader(request, "x-api-key", "..."), context)
 * )
 */
export const make = <S extends Slot>(
  slot: S,
  name: string,
  wrap: (next: Send) => Send,
  options?: {
    readonly honorsDeadline?: boolean | undefined
    readonly identity?: Effect.Effect<string> | undefined
  }
): Policy<S> => ({
  slot,
  name,
  wrap,
  ...(options?.honorsDeadline === true ? { honorsDeadline: true } : {}),
  ...(options?.identity === undefined ? {} : { identity: options.identity })
})

/**
 * The error of a call whose total timeout passed.
 *
 * @since 0.1.0
 * @category deadline
 */
export const deadlineExceeded = (context: CallContext): ApiError.Timeout =>
  new ApiError.Timeout({
    method: context.method,
    url: context.url,
    reason: "Deadline",
    after: context.totalTimeout ?? Duration.zero
  })

/**
 * Bounds an effect by the call's deadline: it is interrupted when the deadline
 * passes and the call fails with `Timeout` (reason `Deadline`); past the
 * deadline it does not start. For a policy's own slow I/O (a token request),
 * so the policy can promise {@link Policy.honorsDeadline}. It forks a fiber:
 * keep it off paths that every call takes.
 *
 * @since 0.1.0
 * @category deadline
 */
export const withinDeadline = <A, E>(
  effect: Effect.Effect<A, E>,
  context: CallContext
): Effect.Effect<A, E | ApiError.Timeout> => {
  const deadline = context.deadline
  if (deadline === undefined) return effect
  return Effect.flatMap(Clock.currentTimeMillis, (now) =>
    now >= deadline
      ? Effect.fail(deadlineExceeded(context))
      : timeout.timeoutFail(effect, Duration.millis(deadline - now), () => deadlineExceeded(context)))
}
