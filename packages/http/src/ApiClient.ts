/**
 * A typed client for one third-party HTTP API: every call runs through the
 * policy pipeline (deadline → retry → auth → circuit breaker → rate limiter →
 * attempt timeout → transport), then its body is decoded with a Schema. Every
 * failure is an {@link ApiError.ApiError} in the error channel.
 *
 * @since 0.1.0
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpMethod from "@effect/platform/HttpMethod"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as ApiError from "./ApiError.js"
import * as classify from "./internal/classify.js"
import * as lean from "./internal/lean.js"
import { type Bounded, concat, empty } from "./internal/lean.js"
import * as timeout from "./internal/timeout.js"
import * as Policy from "./Policy.js"
import * as Redaction from "./Redaction.js"

/**
 * Timeouts of a call: `attempt` bounds one request/response exchange (body
 * included), `total` bounds the whole call with all its retries and waits.
 *
 * @since 0.1.0
 */
export interface TimeoutOptions {
  readonly attempt?: Duration.DurationInput | undefined
  readonly total?: Duration.DurationInput | undefined
}

/**
 * How an ApiClient is built. Policy slots default to none.
 *
 * @since 0.1.0
 */
export interface Options {
  /** Where the API lives; paths are appended to its path (`https://api.x.com/v2` + `/projects`). */
  readonly baseUrl: string | URL
  /** The integration's name, used as the default policy key and in spans (default: the host). */
  readonly name?: string | undefined
  /** Headers sent with every call. Secret values can be `Redacted`; they are revealed only on the wire. */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  readonly timeout?: TimeoutOptions | undefined
  /** Responses with larger bodies fail with ResponseTooLarge (default 10 MiB). */
  readonly maxResponseBytes?: number | undefined
  readonly auth?: Policy.AuthPolicy | undefined
  readonly rateLimit?: Policy.RateLimitPolicy | undefined
  readonly circuitBreaker?: Policy.CircuitBreakerPolicy | undefined
  readonly retry?: Policy.RetryPolicy | undefined
  /** The cache stage (`@apikit/cache`), outside retry, the breaker and the limiter. */
  readonly cache?: Policy.CachePolicy | undefined
}

/**
 * A query parameter value; arrays repeat the key, `undefined` omits it.
 *
 * @since 0.1.0
 */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean> | undefined

/**
 * The options of one call.
 *
 * @since 0.1.0
 */
export interface RequestOptions<A, I, B, BI> {
  /** Values for `:name` or `{name}` segments of the path, URL-encoded. */
  readonly params?: Readonly<Record<string, string | number>> | undefined
  readonly query?: Readonly<Record<string, QueryValue>> | undefined
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  /** A JSON body, encoded with `bodySchema` when given. */
  readonly body?: B | undefined
  readonly bodySchema?: Schema.Schema<B, BI, never> | undefined
  /** A non-JSON body (form, bytes). Buffered bodies can be replayed; streams cannot. */
  readonly rawBody?: HttpBody.HttpBody | undefined
  /** Decodes the response body; without it the body is returned as parsed JSON (or text). */
  readonly success?: Schema.Schema<A, I, never> | undefined
  /** `true` makes a key once for this call (reused on every retry); a string is used as is. */
  readonly idempotencyKey?: true | string | undefined
  /** Overrides the client's timeouts for this call. */
  readonly timeout?: TimeoutOptions | undefined
  /** Rate-limit units this call consumes (default 1). */
  readonly cost?: number | undefined
  /**
   * The call is safe to repeat although its method is not (a GraphQL query sent
   * as POST): retry policies treat it like a GET. An idempotency key implies it.
   */
  readonly idempotent?: boolean | undefined
  /**
   * Checks each attempt's 2xx response inside the pipeline, right above the
   * transport: an error it fails with is handled like a status error (auth
   * refreshes on `Unauthorized`, the limiter pauses and retry waits on
   * `RateLimited`, the breaker counts a `ServerError`). The response it returns
   * is what the policies and the decoder see. For protocols that report
   * failures in 200 bodies (GraphQL `errors[]`, JSON-RPC, SOAP faults). Pass the
   * same function on every call: the pipeline is composed once per function.
   */
  readonly inspect?: Inspect | undefined
}

/**
 * A check of each attempt's 2xx response; see {@link RequestOptions.inspect}.
 *
 * @since 0.1.0
 */
export type Inspect = (
  response: Policy.ApiResponse,
  context: Policy.CallContext
) => Effect.Effect<Policy.ApiResponse, ApiError.ApiError>

/**
 * A decoded value with the response it came from (status and headers), for
 * callers that need headers such as `Link`.
 *
 * @since 0.1.0
 */
export interface Exchange<A> {
  readonly value: A
  readonly status: number
  readonly headers: Headers.Headers
}

/**
 * A client for one API.
 *
 * @since 0.1.0
 */
export interface ApiClient {
  readonly name: string
  readonly baseUrl: URL
  /** Runs a call and returns the decoded value with its status and headers. */
  readonly exchange: <A = unknown, I = unknown, B = unknown, BI = unknown>(
    method: HttpMethod.HttpMethod,
    path: string,
    options?: RequestOptions<A, I, B, BI>
  ) => Effect.Effect<Exchange<A>, ApiError.ApiError>
  readonly request: <A = unknown, I = unknown, B = unknown, BI = unknown>(
    method: HttpMethod.HttpMethod,
    path: string,
    options?: RequestOptions<A, I, B, BI>
  ) => Effect.Effect<A, ApiError.ApiError>
  readonly get: <A = unknown, I = unknown>(
    path: string,
    options?: RequestOptions<A, I, never, never>
  ) => Effect.Effect<A, ApiError.ApiError>
  readonly delete: <A = unknown, I = unknown>(
    path: string,
    options?: RequestOptions<A, I, never, never>
  ) => Effect.Effect<A, ApiError.ApiError>
  readonly post: <A = unknown, I = unknown, B = unknown, BI = unknown>(
    path: string,
    options?: RequestOptions<A, I, B, BI>
  ) => Effect.Effect<A, ApiError.ApiError>
  readonly put: <A = unknown, I = unknown, B = unknown, BI = unknown>(
    path: string,
    options?: RequestOptions<A, I, B, BI>
  ) => Effect.Effect<A, ApiError.ApiError>
  readonly patch: <A = unknown, I = unknown, B = unknown, BI = unknown>(
    path: string,
    options?: RequestOptions<A, I, B, BI>
  ) => Effect.Effect<A, ApiError.ApiError>
}

/**
 * The default bound on response bodies: 10 MiB.
 *
 * @since 0.1.0
 */
export const defaultMaxResponseBytes = 10 * 1024 * 1024

const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])

const invalid = (method: string, url: string, reason: ApiError.InvalidRequest["reason"], detail: string) =>
  new ApiError.InvalidRequest({ method, url, reason, detail })

const parseBaseUrl = (input: string | URL): Either.Either<URL, ApiError.InvalidRequest> => {
  const shown = typeof input === "string" ? Redaction.excerpt(input, 200) : Redaction.url(input)
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(
      invalid("*", shown, "InvalidBaseUrl", "the base URL is not an absolute URL such as https://api.example.com/v1")
    )
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(
      invalid("*", shown, "InvalidBaseUrl", `the base URL must use http or https, not ${url.protocol}`)
    )
  }
  if (url.search !== "" || url.hash !== "") {
    return Either.left(
      invalid(
        "*",
        Redaction.url(url),
        "InvalidBaseUrl",
        "the base URL must not have a query or fragment; pass query parameters per call"
      )
    )
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(
      invalid(
        "*",
        Redaction.url(url),
        "InvalidBaseUrl",
        "credentials in the base URL are not allowed; use an auth policy (Basic) instead"
      )
    )
  }
  return Either.right(url)
}

const paramPattern = /:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\}/g
// Controls, spaces, backslashes and fragments have no place in a path template.
const badPathChars = /[\u0000-\u0020\u007f\\#]/

interface Target {
  /** What is sent. */
  readonly href: string
  /** What logs, spans and errors show: `href` with secret query values masked. */
  readonly shown: string
  readonly route: string
}

// A filled path made of these characters, without "." or ".." segments, is exactly what the
// URL parser would make of it (nothing to percent-encode or normalize), so it needs no parse.
const plainPath = /^[\w\-.~!$&'()*+,;=:@%/]*$/
const dotSegments = /(^|\/)\.\.?(\/|$)/

const resolveTarget = (
  base: URL,
  basePath: string,
  method: string,
  path: string,
  params: Readonly<Record<string, string | number>> | undefined,
  query: Readonly<Record<string, QueryValue>> | undefined
): Either.Either<Target, ApiError.InvalidRequest> => {
  const shownPath = Redaction.excerpt(path, 200)
  let url: URL
  let route: string
  if (/^https?:\/\//i.test(path)) {
    // Absolute URLs (pagination `Link` headers) are allowed only on the API's own origin,
    // so credentials stamped by the auth policy never travel to another host.
    try {
      url = new URL(path)
    } catch {
      return Either.left(invalid(method, shownPath, "InvalidPath", "the absolute URL does not parse"))
    }
    if (url.origin !== base.origin) {
      return Either.left(
        invalid(
          method,
          Redaction.url(url),
          "CrossOrigin",
          `absolute URLs must stay on ${base.origin}; credentials are never sent elsewhere`
        )
      )
    }
    route = url.pathname
  } else {
    if (badPathChars.test(path)) {
      return Either.left(
        invalid(method, shownPath, "InvalidPath", "the path contains spaces, control characters, a backslash or '#'")
      )
    }
    let missing: string | undefined
    let dotSegment: string | undefined
    const filled = path.replace(paramPattern, (_m, colon: string | undefined, brace: string | undefined) => {
      const name = (colon ?? brace)!
      const value = params?.[name]
      if (value === undefined) {
        missing ??= name
        return ""
      }
      const text = String(value)
      // "." and ".." would be normalized away by URL parsing and climb the path.
      if (text === "" || text === "." || text === "..") dotSegment ??= name
      return encodeURIComponent(text)
    })
    if (missing !== undefined) {
      return Either.left(
        invalid(method, shownPath, "MissingPathParam", `no value was given for the path parameter "${missing}"`)
      )
    }
    if (dotSegment !== undefined) {
      return Either.left(
        invalid(
          method,
          shownPath,
          "InvalidPath",
          `the path parameter "${dotSegment}" is empty, "." or "..", which would change the path`
        )
      )
    }
    const q = path.indexOf("?")
    route = q < 0 ? path : path.slice(0, q)
    const joined = `${base.origin}${basePath}${filled.startsWith("/") ? filled : "/" + filled}`
    if (query === undefined && plainPath.test(filled) && !dotSegments.test(filled)) {
      return Either.right({ href: joined, shown: joined, route })
    }
    try {
      url = new URL(joined)
    } catch {
      return Either.left(invalid(method, shownPath, "InvalidPath", "the path does not form a valid URL"))
    }
  }
  if (query !== undefined) {
    for (const key in query) {
      const value = query[key]
      if (value === undefined) continue
      if (Array.isArray(value)) { for (const v of value) url.searchParams.append(key, String(v)) }
      else url.searchParams.append(key, String(value))
    }
  }
  return Either.right({ href: url.href, shown: Redaction.url(url), route })
}

const encodeBody = <B, BI>(
  method: string,
  url: string,
  body: B,
  schema: Schema.Schema<B, BI, never> | undefined
): Either.Either<HttpBody.HttpBody, ApiError.InvalidRequest> => {
  let encoded: unknown = body
  if (schema !== undefined) {
    const result = encoder(schema)(body)
    if (Either.isLeft(result)) {
      return Either.left(
        invalid(method, url, "InvalidBody", Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(result.left)))
      )
    }
    encoded = result.right
  }
  let json: string | undefined
  try {
    json = JSON.stringify(encoded)
  } catch (e) {
    return Either.left(invalid(method, url, "InvalidBody", `the body cannot be serialized as JSON: ${String(e)}`))
  }
  if (json === undefined) return Either.left(invalid(method, url, "InvalidBody", "the body serializes to nothing"))
  return Either.right(HttpBody.text(json, "application/json"))
}

type Codec = (u: unknown) => Either.Either<unknown, ParseResult.ParseIssue>
const decoders = new WeakMap<object, Codec>()
const encoders = new WeakMap<object, Codec>()
const decoder = (schema: Schema.Schema<any, any, never>): Codec => {
  let f = decoders.get(schema)
  if (f === undefined) {
    f = ParseResult.decodeUnknownEither(schema, { errors: "all" })
    decoders.set(schema, f)
  }
  return f
}
const encoder = (schema: Schema.Schema<any, any, never>): Codec => {
  let f = encoders.get(schema)
  if (f === undefined) {
    f = ParseResult.encodeUnknownEither(schema, { errors: "all" })
    encoders.set(schema, f)
  }
  return f
}

const utf8 = new TextDecoder()

const decodeFailure = (
  response: Policy.ApiResponse,
  context: Policy.CallContext,
  reason: ApiError.DecodeError["reason"],
  detail: string
) => {
  const id = classify.requestId(response.headers)
  return Effect.fail(
    new ApiError.DecodeError({
      method: context.method,
      url: context.url,
      status: response.status,
      reason,
      detail,
      ...(id === undefined ? {} : { requestId: id }),
      ...(response.body.length === 0 ? {} : { body: Redaction.excerpt(response.body) })
    })
  )
}

/** Decodes a 2xx body: empty → `undefined`; otherwise JSON, then the success Schema. */
const decode = <A>(
  response: Policy.ApiResponse,
  schema: Schema.Schema<A, any, never> | undefined,
  context: Policy.CallContext
): Effect.Effect<A, ApiError.DecodeError> => {
  let value: unknown = undefined
  if (response.body.length > 0) {
    const text = utf8.decode(response.body)
    try {
      value = JSON.parse(text)
    } catch (e) {
      if (schema === undefined) return Effect.succeed(text as A)
      const type = response.headers["content-type"] ?? "no content-type"
      return decodeFailure(
        response,
        context,
        "InvalidJson",
        `${(e as Error).message} (content-type: ${Redaction.excerpt(type, 100)})`
      )
    }
  }
  if (schema === undefined) return Effect.succeed(value as A)
  const result = decoder(schema)(value)
  return Either.isRight(result)
    ? Effect.succeed(result.right as A)
    : decodeFailure(
      response,
      context,
      "SchemaMismatch",
      Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(result.left))
    )
}

const noBody = (response: HttpClientResponse.HttpClientResponse) =>
  response.status === 204 || response.status === 205 || response.status === 304 || response.request.method === "HEAD"

/** Reads at most `limit` bytes of the body; stops pulling (and so cancels the stream) past it. */
const readBounded = (response: HttpClientResponse.HttpClientResponse, headers: Headers.Headers, limit: number) => {
  if (noBody(response)) return Effect.succeed<Bounded>({ bytes: empty, truncated: false })
  const length = headers["content-length"]
  if (length !== undefined && /^\d{1,15}$/.test(length)) {
    const n = Number(length)
    if (n === 0) return Effect.succeed<Bounded>({ bytes: empty, truncated: false })
    if (n <= limit) {
      return Effect.map(
        response.arrayBuffer,
        (buffer): Bounded => ({ bytes: new Uint8Array(buffer), truncated: false })
      )
    }
    // Declared too large: cancel the body (pulling one chunk and stopping ends the stream),
    // so the connection is released now instead of when the response is collected.
    return Effect.as(Effect.ignore(Stream.runHead(response.stream)), { bytes: empty, truncated: true })
  }
  return Effect.map(
    Stream.runFoldWhile(
      response.stream,
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (s) => s.size <= limit,
      (s, chunk) => {
        s.chunks.push(chunk)
        s.size += chunk.length
        return s
      }
    ),
    (s): Bounded => ({ bytes: concat(s.chunks, Math.min(s.size, limit)), truncated: s.size > limit })
  )
}

/** Non-2xx bodies are read only for the error excerpt and field errors. */
const errorBodyLimit = 1024 * 1024

const ignoreStatus = (_status: number) => {}

/** The timer of one attempt: when it fires and the error it fails with. */
type Timer = lean.Timer

// Effect's default tracer keeps spans in memory only, where nobody reads them: under it (or with
// tracing disabled) ApiClient records no spans. Any other tracer (OpenTelemetry, Capture) gets them.
const nativeTracer = Effect.runSync(Effect.tracer)
const tracing = (fiber: Fiber.RuntimeFiber<unknown, unknown>): boolean =>
  fiber.getFiberRef(FiberRef.currentTracerEnabled) &&
  Context.get(fiber.currentDefaultServices, Tracer.Tracer) !== nativeTracer

const debugEnabled = Effect.map(
  FiberRef.get(FiberRef.currentMinimumLogLevel),
  (min) => LogLevel.greaterThanEqual(LogLevel.Debug, min)
)

/** A debug line per attempt; when debug logging is off it costs one FiberRef read. */
const logAttempt = (
  context: Policy.CallContext,
  start: number,
  status: number | undefined,
  error: string | undefined
) =>
  Effect.flatMap(debugEnabled, (enabled) =>
    enabled
      ? Effect.flatMap(Clock.currentTimeMillis, (end) =>
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
      : Effect.void)

/**
 * Makes an ApiClient over the `HttpClient` in context. Fails with
 * `InvalidRequest` (reason `InvalidBaseUrl`) when the base URL is unusable.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient } from "@apikit/http"
 * import { Effect, Schema } from "effect"
 *
 * const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
 *
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.example.com/v1", timeout: { attempt: "5 seconds" } })
 *   return yield* api.get("/projects/:id", { params: { id: "p_1" }, success: Project })
 * })
 */
export const make = (options: Options): Effect.Effect<ApiClient, ApiError.InvalidRequest, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = parseBaseUrl(options.baseUrl)
    if (Either.isLeft(base)) return yield* base.left
    const baseUrl = base.right
    const basePath = baseUrl.pathname.replace(/\/+$/, "")
    const name = options.name ?? baseUrl.host
    const maxBytes = options.maxResponseBytes ?? defaultMaxResponseBytes
    const defaultAttempt = options.timeout?.attempt === undefined ? undefined : Duration.decode(options.timeout.attempt)
    const defaultTotal = options.timeout?.total === undefined ? undefined : Duration.decode(options.timeout.total)
    const defaultHeaders = Headers.fromInput({ accept: "application/json" })
    const reveal = (input: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined) => {
      const out: Record<string, string> = {}
      if (input !== undefined) {
        for (const key in input) {
          const v = input[key]!
          out[key] = Redacted.isRedacted(v) ? Redacted.value(v) : v
        }
      }
      return out
    }
    const clientHeaders = Headers.setAll(defaultHeaders, reveal(options.headers))
    // The request of a call with the client's headers and no body, per method, made once: building a
    // platform request takes four copies (method, URL, headers, body); setting the URL on this takes one.
    const bareRequests = new Map<string, HttpClientRequest.HttpClientRequest>()
    const bare = (method: HttpMethod.HttpMethod) => {
      let request = bareRequests.get(method)
      if (request === undefined) {
        request = HttpClientRequest.make(method)("", { headers: clientHeaders, body: HttpBody.empty })
        bareRequests.set(method, request)
      }
      return request
    }

    // The platform client's own span records the full URL (query secrets included), so
    // ours replace it: apikit.call and apikit.attempt carry the masked URL only.
    const platform = yield* HttpClient.HttpClient
    // apikit's UndiciHttpClient traces nothing, so it needs no FiberRef update per request;
    // unwrapped, its attempts run straight over undici (lean.exchange).
    const dispatch = lean.dispatchOf(platform)
    const http = dispatch === undefined ? HttpClient.withTracerDisabledWhen(platform, () => true) : platform

    const read = (response: HttpClientResponse.HttpClientResponse, context: Policy.CallContext) => {
      const ok = (response.status >= 200 && response.status < 300) ||
        (response.status === 304 && context.notModified === true)
      const headers = response.headers
      return Effect.flatMap(readBounded(response, headers, ok ? maxBytes : errorBodyLimit), ({ bytes, truncated }) => {
        if (ok && truncated) {
          const id = classify.requestId(headers)
          return Effect.fail(
            new ApiError.ResponseTooLarge({
              method: context.method,
              url: context.url,
              status: response.status,
              limit: maxBytes,
              ...(id === undefined ? {} : { requestId: id })
            })
          )
        }
        if (ok) {
          return Effect.succeed<Policy.ApiResponse>({ status: response.status, headers: headers, body: bytes })
        }
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.fail(
            classify.fromStatus(
              {
                method: context.method,
                url: context.url,
                status: response.status,
                headers: headers,
                body: bytes
              },
              now
            )
          ))
      })
    }

    const policies = [options.rateLimit, options.circuitBreaker, options.auth, options.retry, options.cache].filter(
      (p): p is Policy.Policy => p !== undefined
    )
    // Every policy keeps within the deadline: the transport clamps each attempt to it and the total
    // timeout needs no watcher fiber. Otherwise one per call interrupts whatever runs at the deadline.
    const cooperative = policies.every((p) => p.honorsDeadline === true)
    const identity = options.auth?.identity

    const generic = (
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      timer: Timer | undefined
    ) => {
      const exchange: Effect.Effect<Policy.ApiResponse, ApiError.ApiError> = http.execute(request).pipe(
        Effect.flatMap((response) => read(response, context)),
        Effect.catchIf(
          (e): e is Exclude<typeof e, ApiError.ApiError> => e._tag === "RequestError" || e._tag === "ResponseError",
          (e) => Effect.fail(classify.fromTransport(context.method, context.url, e))
        )
      )
      return timer === undefined
        ? exchange
        : timeout.timeoutFail(exchange, Duration.millis(timer.millis), () => lean.timedOut(context, timer))
    }

    const attempt = (
      request: HttpClientRequest.HttpClientRequest,
      context: Policy.CallContext,
      clock: Clock.Clock,
      timer: Timer | undefined,
      onStatus: (status: number) => void = ignoreStatus
    ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
      dispatch !== undefined && (timer === undefined || timeout.isLive(clock))
        ? lean.exchange(dispatch, request, context, clock, maxBytes, errorBodyLimit, timer, onStatus)
        : generic(request, context, timer)

    const attemptSpan = (context: Policy.CallContext) => ({
      kind: "client" as const,
      captureStackTrace: false,
      attributes: { "apikit.attempt": context.attempt, "http.request.method": context.method }
    })

    const transport: Policy.Send = (request, context) =>
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
        const debug = LogLevel.greaterThanEqual(LogLevel.Debug, fiber.getFiberRef(FiberRef.currentMinimumLogLevel))
        const traced = tracing(fiber)
        if (!debug && !traced) return attempt(request, context, clock, timer)
        if (!debug && dispatch !== undefined) {
          // Nothing inside a lean attempt logs or opens spans, so its span need not become the
          // current parent (no FiberRef update): it is made, annotated and ended around the exchange.
          return Effect.useSpan(
            "apikit.attempt",
            attemptSpan(context),
            (span) =>
              attempt(request, context, clock, timer, (status) => span.attribute("http.response.status_code", status))
          )
        }
        const annotate = (status: number | undefined) =>
          traced && status !== undefined ? Effect.annotateCurrentSpan("http.response.status_code", status) : Effect.void
        const observed = attempt(request, context, clock, timer).pipe(
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

    // Composed once; innermost first so the outermost slot wraps everything inside it.
    const compose = (innermost: Policy.Send) => {
      let composed = innermost
      for (const policy of policies) composed = policy.wrap(composed)
      return composed
    }
    const pipeline = compose(transport)
    // Calls with a response check get a pipeline of their own, composed once per check.
    const inspected = new WeakMap<Inspect, Policy.Send>()
    const pipelineOf = (inspect: Inspect | undefined): Policy.Send => {
      if (inspect === undefined) return pipeline
      let composed = inspected.get(inspect)
      if (composed === undefined) {
        composed = compose((request, context) =>
          Effect.flatMap(transport(request, context), (response) => inspect(response, context))
        )
        inspected.set(inspect, composed)
      }
      return composed
    }

    /** One call; `finish` turns the 2xx response into what the caller gets (a value or an Exchange). */
    const call = <A, I, B, BI, Out>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: RequestOptions<A, I, B, BI>,
      finish: (response: Policy.ApiResponse, context: Policy.CallContext) => Effect.Effect<Out, ApiError.ApiError>
    ): Effect.Effect<Out, ApiError.ApiError> => {
      const target = resolveTarget(baseUrl, basePath, method, path, opts.params, opts.query)
      if (Either.isLeft(target)) return Effect.fail(target.left)
      const { href, route, shown: shownUrl } = target.right

      let body: HttpBody.HttpBody = HttpBody.empty
      if (opts.rawBody !== undefined) {
        body = opts.rawBody
      } else if (opts.body !== undefined) {
        const encoded = encodeBody(method, shownUrl, opts.body, opts.bodySchema)
        if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
        body = encoded.right
      }
      let headers = opts.headers === undefined ? clientHeaders : Headers.setAll(clientHeaders, reveal(opts.headers))
      const key = opts.idempotencyKey === true ? globalThis.crypto.randomUUID() : opts.idempotencyKey
      if (key !== undefined) headers = Headers.set(headers, "idempotency-key", key)

      // A string URL: a URL object would be cloned and re-parsed by the platform request.
      const request = body === HttpBody.empty && headers === clientHeaders
        ? HttpClientRequest.setUrl(bare(method), href)
        : HttpClientRequest.make(method)(href, { headers, body } as HttpClientRequest.Options.NoUrl)
      const attemptTimeout = opts.timeout?.attempt === undefined
        ? defaultAttempt
        : Duration.decode(opts.timeout.attempt)
      const total = opts.timeout?.total === undefined ? defaultTotal : Duration.decode(opts.timeout.total)

      const idempotent = key !== undefined || opts.idempotent === true || idempotentMethods.has(method)
      const send = pipelineOf(opts.inspect)
      return Effect.withFiberRuntime<Out, ApiError.ApiError>((fiber) => {
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const context: Policy.CallContext = {
          client: name,
          method,
          url: shownUrl,
          host: baseUrl.host,
          route,
          idempotent,
          replayable: body._tag !== "Stream",
          deadline: total === undefined ? undefined : clock.unsafeCurrentTimeMillis() + Duration.toMillis(total),
          attemptTimeout,
          totalTimeout: total,
          attempt: 1,
          cost: opts.cost ?? 1,
          identity
        }
        let sent = send(request, context)
        if (total !== undefined && !cooperative) {
          sent = timeout.timeoutFailOn(clock, sent, total, () => Policy.deadlineExceeded(context))
        }
        let out = Effect.flatMap(sent, (response) => finish(response, context))
        // Platform clients may print request headers while they run; apikit's own transport never does.
        if (dispatch === undefined) out = Redaction.withHeaderRedaction(out)
        if (!tracing(fiber)) return out
        return Effect.withSpan(out, "apikit.call", {
          kind: "client",
          captureStackTrace: false,
          attributes: {
            "apikit.client": name,
            "http.request.method": method,
            "server.address": baseUrl.host,
            "http.route": route,
            "url.full": shownUrl
          }
        })
      })
    }

    const exchange = <A, I, B, BI>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: RequestOptions<A, I, B, BI> = {}
    ): Effect.Effect<Exchange<A>, ApiError.ApiError> =>
      call(method, path, opts, (response, context) =>
        Effect.map(
          decode(response, opts.success, context),
          (value): Exchange<A> => ({ value, status: response.status, headers: response.headers })
        ))

    const request = <A, I, B, BI>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: RequestOptions<A, I, B, BI> = {}
    ): Effect.Effect<A, ApiError.ApiError> =>
      call(method, path, opts, (response, context) => decode(response, opts.success, context))

    return {
      name,
      baseUrl,
      exchange,
      request,
      get: (path, opts) => request("GET", path, opts),
      delete: (path, opts) => request("DELETE", path, opts),
      post: (path, opts) => request("POST", path, opts),
      put: (path, opts) => request("PUT", path, opts),
      patch: (path, opts) => request("PATCH", path, opts)
    } satisfies ApiClient
  })
