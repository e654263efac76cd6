/**
 * One attempt, whatever the transport: start the exchange, read the body with
 * the one {@link Reader}, give up when the one timer fires, and map what
 * happened to the result (for ApiClient: a read 2xx response, or an ApiError).
 *
 * The timer: with the live Clock it is a `setTimeout` armed inside the
 * attempt that aborts the exchange (no fiber, no race); with any other Clock
 * (TestClock, a custom one) the attempt runs under `Effect.timeoutFail`, so
 * virtual time drives it.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as ApiError from "../ApiError.js"
import * as Policy from "../Policy.js"
import * as Redaction from "../Redaction.js"
import { Defect, Reader } from "./body.js"
import * as classify from "./classify.js"
import * as redirect from "./redirect.js"
import { type Failure, StreamReader, streamScope } from "./stream.js"
import * as timeout from "./timeout.js"
import * as transports from "./transport.js"
import type { Transport } from "./transport.js"

// Larger delays overflow setTimeout; the live Clock treats them as never firing too.
const maxTimerMillis = 2 ** 31 - 1

/**
 * The body limits of an exchange: `maxBytes` for a success, `errorLimit` for
 * an error body; `notModified` makes a 304 a success (the cache stage's
 * conditional requests).
 *
 * @internal
 */
export interface Limits {
  readonly maxBytes: number
  readonly errorLimit: number
  readonly notModified?: boolean | undefined
  /** The body is streamed to a consumer (`ApiClient.stream`): the reader of each exchange is kept here. */
  readonly stream?: { reader: StreamReader | undefined } | undefined
}

/**
 * Runs one exchange over `transport` and settles with `complete(reader)`
 * (the reader holds the response or the failure), or `timedOut()` when
 * `timerMillis` passes first. Interruption aborts the exchange.
 *
 * @internal
 */
export const exchange = <A, E>(
  transport: Transport,
  request: HttpClientRequest.HttpClientRequest,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  clock: Clock.Clock,
  limits: Limits,
  timerMillis: number | undefined,
  complete: (reader: Reader) => Effect.Effect<A, E>,
  timedOut: () => E
): Effect.Effect<A, E> => {
  const live = timerMillis === undefined || timeout.isLive(clock)
  const run = Effect.async<A, E>((resume) => {
    let handle: ReturnType<typeof setTimeout> | undefined
    const settled = (r: Reader) => {
      if (handle !== undefined) clearTimeout(handle)
      resume(complete(r))
    }
    const reader = limits.stream === undefined
      ? new Reader(request.method, limits.maxBytes, limits.errorLimit, settled, limits.notModified === true)
      : (limits.stream.reader = new StreamReader(request.method, limits.errorLimit, settled))
    const started = transport.start(request, reader, fiber)
    if (reader instanceof StreamReader) reader.attach(started)
    if (reader.settled) return
    if (live && timerMillis !== undefined && timerMillis <= maxTimerMillis) {
      handle = setTimeout(() => {
        if (reader.settled) return
        reader.settled = true
        started.abort()
        resume(Effect.fail(timedOut()))
      }, timerMillis)
    }
    return Effect.sync(() => {
      if (handle !== undefined) clearTimeout(handle)
      reader.settled = true
      started.abort()
    })
  })
  return live ? run : Effect.timeoutFail(run, { duration: Duration.millis(timerMillis!), onTimeout: timedOut })
}

/** A call context of `ApiClient.stream`: the scope its streamed bodies belong to. @internal */
export interface Streamed extends Policy.CallContext {
  readonly [streamScope]: Scope.Scope
}

/** When an attempt gives up, and why: its own timeout, or the call's deadline. @internal */
export interface Timer {
  readonly millis: number
  readonly reason: "Attempt" | "Deadline"
}

/** The error of an attempt whose timer fired. @internal */
export const timedOut = (context: Policy.CallContext, timer: Timer): ApiError.Timeout =>
  timer.reason === "Deadline"
    ? Policy.deadlineExceeded(context)
    : new ApiError.Timeout({
      method: context.method,
      url: context.url,
      reason: "Attempt",
      after: context.attemptTimeout ?? Duration.millis(timer.millis)
    })

/** Non-2xx bodies are read only for the error excerpt and field errors. @internal */
export const errorBodyLimit = 1024 * 1024

/** What a settled reader means to ApiClient: the 2xx response, or the ApiError. @internal */
export const toApiResponse = (
  reader: Reader,
  context: Policy.CallContext,
  clock: Clock.Clock
): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
  const { method, url } = context
  if (reader.failed) {
    return reader.cause instanceof Defect
      ? Effect.die(reader.cause.defect)
      : Effect.fail(classify.fromTransport(method, url, { cause: reader.cause }))
  }
  const status = reader.status
  if (reader.ok && reader.encodingError !== undefined) {
    const id = classify.requestId(reader.headers)
    return Effect.fail(
      new ApiError.DecodeError({
        method,
        url,
        status,
        reason: "InvalidEncoding",
        detail: Redaction.excerpt(reader.encodingError, 300),
        ...(id === undefined ? {} : { requestId: id })
      })
    )
  }
  if (reader.ok) {
    if (!reader.truncated) return Effect.succeed(reader)
    const id = classify.requestId(reader.headers)
    return Effect.fail(
      new ApiError.ResponseTooLarge({
        method,
        url,
        status,
        limit: reader.maxBytes,
        ...(id === undefined ? {} : { requestId: id })
      })
    )
  }
  return Effect.fail(
    classify.fromStatus(
      { method, url, status, headers: reader.headers, body: reader.body },
      clock.unsafeCurrentTimeMillis()
    )
  )
}

/**
 * The body of a streamed 2xx response as the caller reads it: chunks as they
 * arrive, then the end, or the error that cut it short (after every chunk
 * that came before it). A response that did not stream (a policy replaced it)
 * is its buffered body.
 *
 * @internal
 */
export const bodyStream = (
  response: Policy.ApiResponse,
  context: Policy.CallContext
): Stream.Stream<Uint8Array, ApiError.ApiError> => {
  if (!(response instanceof StreamReader) || !response.streaming) {
    return response.body.length === 0 ? Stream.empty : Stream.succeed(response.body)
  }
  const reader = response
  const failure = (failure: Failure): Effect.Effect<never, Option.Option<ApiError.ApiError>> => {
    if (failure._tag === "Encoding") {
      const id = classify.requestId(reader.headers)
      return Effect.fail(Option.some(
        new ApiError.DecodeError({
          method: context.method,
          url: context.url,
          status: reader.status,
          reason: "InvalidEncoding",
          detail: Redaction.excerpt(failure.detail, 300),
          ...(id === undefined ? {} : { requestId: id })
        })
      ))
    }
    return failure.cause instanceof Defect
      ? Effect.die(failure.cause.defect)
      : Effect.fail(Option.some(classify.fromTransport(context.method, context.url, { cause: failure.cause })))
  }
  return Stream.repeatEffectOption(
    Effect.async<Uint8Array, Option.Option<ApiError.ApiError>>((resume) => {
      reader.take((take) =>
        resume(
          take._tag === "Chunk"
            ? Effect.succeed(take.chunk)
            : take._tag === "End"
            ? Effect.fail(Option.none())
            : failure(take.failure)
        )
      )
      return Effect.sync(() => reader.cancelTake())
    })
  )
}

/** A redirect that was not followed: `UnexpectedStatus` with where it led and why it stopped. */
const notFollowed = (
  reader: Reader,
  context: Policy.CallContext,
  decision: { readonly location: string; readonly reason: string }
): ApiError.UnexpectedStatus => {
  const id = classify.requestId(reader.headers)
  return new ApiError.UnexpectedStatus({
    method: context.method,
    url: context.url,
    status: reader.status,
    location: decision.location,
    redirect: decision.reason,
    ...(id === undefined ? {} : { requestId: id })
  })
}

// Effect's default tracer keeps spans in memory only, where nobody reads them: under it (or with
// tracing disabled) ApiClient records no spans. Any other tracer (OpenTelemetry, Capture) gets them.
const nativeTracer = Effect.runSync(Effect.tracer)

/** Whether spans made on `fiber` reach an exporting tracer. @internal */
export const tracing = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.getFiberRef(FiberRef.currentTracerEnabled) &&
  Context.get(fiber.currentDefaultServices, Tracer.Tracer) !== nativeTracer

/** A debug line per attempt. */
const logAttempt = (
  context: Policy.CallContext,
  start: number,
  status: number | undefined,
  error: string | undefined
) =>
  Effect.flatMap(Clock.currentTimeMillis, (end) =>
    Effect.logDebug("apikit attempt").pipe(
      Effect.annotateLogs({
        client: context.client,
        method: context.method,
        url: context.url,
        route: context.route,
        attempt: context.attempt,
        durationMs: end - start,
        ...(status === undefined ? {} : { status }),
        ...(error === undefined ? {} : { error })
      })
    ))

const attemptSpan = (context: Policy.CallContext) => ({
  kind: "client" as const,
  captureStackTrace: false,
  attributes: { "apikit.attempt": context.attempt, "http.request.method": context.method }
})

/**
 * The innermost stage of ApiClient's pipeline: one attempt over `transport`,
 * its timer clamped to the call's deadline when the deadline is kept
 * cooperatively, with an `apikit.attempt` span under an exporting tracer and
 * a debug line when debug logging is on.
 *
 * @internal
 */
export const send = (
  transport: Transport,
  limits: Limits,
  cooperative: boolean,
  redirects: redirect.Redirects
): Policy.Send =>
(request, context) =>
  Effect.withFiberRuntime((fiber) => {
    const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
    const start = clock.unsafeCurrentTimeMillis()
    // The attempt's timer: its own timeout, clamped to what is left of the call's deadline.
    let timer: Timer | undefined = context.attemptTimeout === undefined
      ? undefined
      : { millis: Duration.toMillis(context.attemptTimeout), reason: "Attempt" }
    if (cooperative && context.deadline !== undefined) {
      const left = context.deadline - start
      if (left <= 0) return Effect.fail(Policy.deadlineExceeded(context))
      if (timer === undefined || left < timer.millis) timer = { millis: left, reason: "Deadline" }
    }
    const scope = context.streamed === true ? (context as Streamed)[streamScope] : undefined
    const stream = scope === undefined ? undefined : { reader: undefined as StreamReader | undefined }
    const bounds = context.notModified === true
      ? { ...limits, notModified: true }
      : stream === undefined
      ? limits
      : { ...limits, stream }
    const debug = LogLevel.greaterThanEqual(LogLevel.Debug, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))
    const traced = tracing(fiber)
    const end = timer === undefined ? undefined : start + timer.millis
    // One exchange, then the next one when the response is a redirect the policy follows
    // (within the same timer).
    const hop = (
      outgoing: HttpClientRequest.HttpClientRequest,
      hops: number,
      onStatus: ((status: number) => void) | undefined
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
      exchange(
        transport,
        outgoing,
        fiber,
        clock,
        bounds,
        end === undefined ? undefined : hops === 0 ? timer!.millis : Math.max(0, end - clock.unsafeCurrentTimeMillis()),
        (reader) => {
          if (!reader.failed) {
            const decision = redirect.decide(reader.status, reader.headers, outgoing, context, redirects, hops)
            if (decision._tag === "Follow") return hop(decision.request, hops + 1, onStatus)
            if (onStatus !== undefined) onStatus(reader.status)
            if (decision._tag === "Stop") return Effect.fail(notFollowed(reader, context, decision))
          }
          return toApiResponse(reader, context, clock)
        },
        () => timedOut(context, timer!)
      )
    // A streamed body outlives the attempt: the scope of the `stream` call closes its connection
    // (registered before the exchange starts, so no response can be left open unowned).
    const run = (onStatus?: (status: number) => void) =>
      stream === undefined
        ? hop(request, 0, onStatus)
        : Effect.zipRight(
          Scope.addFinalizer(scope!, Effect.sync(() => stream.reader?.close())),
          hop(request, 0, onStatus)
        )
    if (!debug && !traced) return run()
    if (!debug) {
      // Nothing inside an attempt logs or opens spans, so its span need not become the
      // current parent (no FiberRef update): it is made, annotated and ended around the exchange.
      return Effect.useSpan(
        "apikit.attempt",
        attemptSpan(context),
        (span) => run((status) => span.attribute("http.response.status_code", status))
      )
    }
    const annotate = (status: number | undefined) =>
      traced && status !== undefined ? Effect.annotateCurrentSpan("http.response.status_code", status) : Effect.void
    const observed = run().pipe(
      Effect.tapBoth({
        onSuccess: (response) =>
          Effect.zipRight(annotate(response.status), logAttempt(context, start, response.status, undefined)),
        onFailure: (error) => {
          const status = ApiError.statusOf(error)
          return Effect.zipRight(annotate(status), logAttempt(context, start, status, error._tag))
        }
      })
    )
    return traced ? Effect.withSpan(observed, "apikit.attempt", attemptSpan(context)) : observed
  })

/**
 * One exchange over a platform client outside ApiClient's pipeline (the auth
 * package's token endpoint): the same transport choice, body reader and timer.
 * Succeeds with the settled reader (a response of any status, its body read up
 * to `limit`, or the transport failure), fails with `"TimedOut"`.
 *
 * @internal
 */
export const request = (
  platform: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  limit: number,
  after: Duration.Duration
): Effect.Effect<Reader, "TimedOut"> =>
  Effect.withFiberRuntime((fiber) =>
    exchange(
      transports.of(platform),
      request,
      fiber,
      Context.get(fiber.currentDefaultServices, Clock.Clock),
      { maxBytes: limit, errorLimit: limit },
      Duration.toMillis(after),
      Effect.succeed,
      () => "TimedOut" as const
    )
  )
