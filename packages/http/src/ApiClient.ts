/**
 * A typed client for one third-party HTTP API: every call runs through the
 * policy pipeline (deadline → cache → retry → auth → circuit breaker → rate
 * limiter → attempt timeout → transport), then its body is decoded with a Schema. Every
 * failure is an {@link ApiError.ApiError} in the error channel.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpMethod from "@effect/platform/HttpMethod"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type * as ApiError from "./ApiError.js"
import * as internal from "./internal/client.js"
import type * as Policy from "./Policy.js"

/**
 * Timeouts of a call: `attempt` bounds one request/response exchange (body
 * included), `total` bounds the whole call with all its retries and waits.
 *
 * @since 0.1.0
 * @category options
 */
export interface TimeoutOptions {
  readonly attempt?: Duration.DurationInput | undefined
  readonly total?: Duration.DurationInput | undefined
}

/**
 * Which redirects a client follows. By default: same-origin redirects of GET
 * and HEAD (301, 302, 303, 307, 308), of any method for 303 (as a GET without
 * body), and 307/308 of other methods when the body can be sent again; at
 * most 5 in a row. A redirect that is not followed fails the call with
 * `UnexpectedStatus` carrying `location`.
 *
 * @since 0.1.0
 * @category options
 */
export interface RedirectOptions {
  /** `false` follows nothing (default `true`). */
  readonly follow?: boolean | undefined
  /** The most redirects followed in one attempt (default 5); one more is `UnexpectedStatus`. */
  readonly limit?: number | undefined
  /**
   * Follow redirects to another origin (default `false`). They are sent without any credential: no
   * header the auth policy stamped (whatever its name), no query parameter it added, no header given as
   * `Redacted`, no `authorization`, `cookie` or `proxy-authorization`.
   */
  readonly crossOrigin?: boolean | undefined
}

/**
 * How an ApiClient is built. Policy slots default to none.
 *
 * @since 0.1.0
 * @category options
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
  /** Which redirects are followed (default: same-origin ones, see {@link RedirectOptions}). */
  readonly redirects?: RedirectOptions | undefined
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
 * @category models
 */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean> | undefined

/**
 * The options of one call.
 *
 * @since 0.1.0
 * @category options
 */
export interface RequestOptions<A, I, B, BI> {
  /**
   * Values for the path's placeholders, URL-encoded: `{name}` anywhere in the path (any name without
   * braces or slashes: `{enterprise-team}`, `{repo.name}`), `:name` at the start of a segment
   * (`/projects/:id`; `/v1/{name}:cancel` keeps its `:cancel`). A placeholder without a value is
   * `InvalidRequest` (`MissingPathParam`): nothing is sent.
   */
  readonly params?: Readonly<Record<string, string | number>> | undefined
  readonly query?: Readonly<Record<string, QueryValue>> | undefined
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  /** A JSON body, encoded with `bodySchema` when given. */
  readonly body?: B | undefined
  readonly bodySchema?: Schema.Schema<B, BI, never> | undefined
  /** A non-JSON body (form, bytes). Buffered bodies can be replayed; streams cannot. */
  readonly rawBody?: HttpBody.HttpBody | undefined
  /**
   * Decodes the response body; without it the body is returned as parsed JSON (or text).
   * `Schema.Uint8ArrayFromSelf` returns the body's bytes as they came (a file, an image).
   */
  readonly success?: Schema.Schema<A, I, never> | undefined
  /** `true` makes a key once for this call (reused on every retry); a string is used as is. */
  readonly idempotencyKey?: true | string | undefined
  /** Overrides the client's timeouts for this call. */
  readonly timeout?: TimeoutOptions | undefined
  /**
   * `"gzip"` compresses the body (JSON, text or bytes) and sends `content-encoding: gzip`, for APIs
   * that accept compressed uploads. Responses are always decoded, whatever this says.
   */
  readonly compress?: "gzip" | undefined
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
 * @category models
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
 * @category models
 */
export interface Exchange<A> {
  readonly value: A
  readonly status: number
  readonly headers: Headers.Headers
}

/**
 * The options of a call whose body is not decoded ({@link ApiClient.bytes},
 * {@link ApiClient.stream}): everything but `success` and `inspect`.
 *
 * @since 0.1.0
 * @category options
 */
export type BodyOptions<B = unknown, BI = unknown> = Omit<
  RequestOptions<unknown, unknown, B, BI>,
  "success" | "inspect"
>

/**
 * A 2xx response whose body is read as it arrives ({@link ApiClient.stream}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Streamed {
  readonly status: number
  readonly headers: Headers.Headers
  /**
   * The body in chunks as they arrive (content-encoding undone), read once. Memory stays bounded
   * whatever its size: the connection is paused while ~256 KiB wait unread. A failure after the
   * first byte (a reset connection, a body that does not decode) fails the stream after the chunks
   * before it, and is not retried. Closing the call's scope closes an unfinished body's connection.
   */
  readonly body: Stream.Stream<Uint8Array, ApiError.ApiError>
}

/**
 * A client for one API.
 *
 * @since 0.1.0
 * @category models
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
  /**
   * Runs a call and returns its body as bytes, undecoded (files, images, PDFs), bounded by
   * `maxResponseBytes` like every buffered body.
   */
  readonly bytes: <B = unknown, BI = unknown>(
    method: HttpMethod.HttpMethod,
    path: string,
    options?: BodyOptions<B, BI>
  ) => Effect.Effect<Uint8Array, ApiError.ApiError>
  /**
   * Runs a call through the whole pipeline up to the response head (auth, the breaker, the
   * limiter, retries before the first body byte, the attempt timeout until the head arrives) and
   * returns the 2xx response with its body as a {@link Streamed.body} stream, in bounded memory and
   * without `maxResponseBytes`: for downloads of any size. The body belongs to the scope: close it
   * (`Effect.scoped`, or `Stream.unwrapScoped` for a plain stream) when done. Timeouts do not bound
   * reading the body; the consumer does (`Stream.timeoutFail`).
   *
   * @example
   * import type { ApiClient } from "@apikit/http"
   * import { Effect, Stream } from "effect"
   *
   * declare const api: ApiClient.ApiClient
   * // A large export, at most ~256 KiB of it in memory at any time.
   * const chunks = Stream.unwrapScoped(
   *   Effect.map(api.stream("GET", "/exports/:id", { params: { id: "e_1" } }), (response) => response.body)
   * )
   * const size = Stream.runFold(chunks, 0, (n, chunk) => n + chunk.length)
   */
  readonly stream: <B = unknown, BI = unknown>(
    method: HttpMethod.HttpMethod,
    path: string,
    options?: BodyOptions<B, BI>
  ) => Effect.Effect<Streamed, ApiError.ApiError, Scope.Scope>
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
 * @category constants
 */
export const defaultMaxResponseBytes: number = internal.defaultMaxResponseBytes

/**
 * Makes an ApiClient over the `HttpClient` in context. Fails with
 * `InvalidRequest` (reason `InvalidBaseUrl`) when the base URL is unusable.
 *
 * @since 0.1.0
 * @category constructors
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
export const make: (options: Options) => Effect.Effect<ApiClient, ApiError.InvalidRequest, HttpClient.HttpClient> =
  internal.make
