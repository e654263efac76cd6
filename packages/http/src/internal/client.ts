/**
 * The ApiClient behind `ApiClient.make`: resolves the options once (base URL,
 * headers, timeouts, the transport, the policy pipeline in the order of
 * `Policy.slots`), then runs each call: build the request, send it through
 * the pipeline, decode the response.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpMethod from "@effect/platform/HttpMethod"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type * as ApiClient from "../ApiClient.js"
import type * as ApiError from "../ApiError.js"
import * as Policy from "../Policy.js"
import * as Redaction from "../Redaction.js"
import * as attempt from "./attempt.js"
import { acceptEncoding } from "./body.js"
import { decode } from "./decode.js"
import * as redirect from "./redirect.js"
import { encodeBody, gzip, idempotentMethods, parseBaseUrl, resolveTarget } from "./request.js"
import { streamScope } from "./stream.js"
import * as timeout from "./timeout.js"
import * as transports from "./transport.js"

/** @internal */
export const defaultMaxResponseBytes = 10 * 1024 * 1024

/** @internal */
export const make = (
  options: ApiClient.Options
): Effect.Effect<ApiClient.ApiClient, ApiError.InvalidRequest, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const base = parseBaseUrl(options.baseUrl)
    if (Either.isLeft(base)) return yield* base.left
    const baseUrl = base.right
    const basePath = baseUrl.pathname.replace(/\/+$/, "")
    const name = options.name ?? baseUrl.host
    const maxBytes = options.maxResponseBytes ?? defaultMaxResponseBytes
    const defaultAttempt = options.timeout?.attempt === undefined ? undefined : Duration.decode(options.timeout.attempt)
    const defaultTotal = options.timeout?.total === undefined ? undefined : Duration.decode(options.timeout.total)
    // Compressed answers are decoded as they stream in (internal/body.ts), within maxResponseBytes.
    const defaultHeaders = Headers.fromInput({ accept: "application/json", "accept-encoding": acceptEncoding })
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
    const secretNames = (input: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined) => {
      const out: Array<string> = []
      if (input !== undefined) {
        for (const key in input) if (Redacted.isRedacted(input[key])) out.push(key.toLowerCase())
      }
      return out
    }
    const clientSecret = secretNames(options.headers)
    // What a redirect to another origin may take along (internal/redirect.ts).
    const clientCallHeaders: redirect.CallHeaders = { headers: clientHeaders, secret: new Set(clientSecret) }
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

    // The transport is chosen once: apikit's UndiciHttpClient, unwrapped, brings its own (undici's
    // dispatch); any other platform client runs behind the generic one (internal/transport.ts).
    const transport = transports.of(yield* HttpClient.HttpClient)
    const limits = { maxBytes, errorLimit: attempt.errorBodyLimit }

    const policies: Array<Policy.Policy> = []
    for (const slot of Policy.slots) {
      const policy = options[slot]
      if (policy !== undefined) policies.push(policy)
    }
    // Every policy keeps within the deadline: the attempt clamps its timer to it and the total
    // timeout needs no watcher fiber. Otherwise one per call interrupts whatever runs at the deadline.
    const cooperative = policies.every((p) => p.honorsDeadline === true)

    // Composed once, innermost (the last slot) first, so the outermost slot wraps everything inside it.
    const redirects: redirect.Redirects = {
      follow: options.redirects?.follow ?? true,
      limit: options.redirects?.limit ?? 5,
      crossOrigin: options.redirects?.crossOrigin ?? false
    }
    const innermost = attempt.send(transport, limits, cooperative, redirects)
    const compose = (send: Policy.Send) => {
      for (let i = policies.length - 1; i >= 0; i--) send = policies[i]!.wrap(send)
      return send
    }
    const pipeline = compose(innermost)
    // Calls with a response check (RequestOptions.inspect) get a pipeline of their own, composed once per check.
    const inspected = new WeakMap<ApiClient.Inspect, Policy.Send>()
    const pipelineOf = (inspect: ApiClient.Inspect | undefined): Policy.Send => {
      if (inspect === undefined) return pipeline
      let composed = inspected.get(inspect)
      if (composed === undefined) {
        composed = compose((request, context) =>
          Effect.flatMap(innermost(request, context), (response) => inspect(response, context))
        )
        inspected.set(inspect, composed)
      }
      return composed
    }
    const identity = options.auth?.identity
    /** One call; `finish` turns the 2xx response into what the caller gets (a value or an Exchange). */
    const call = <A, I, B, BI, Out>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: ApiClient.RequestOptions<A, I, B, BI>,
      finish: (response: Policy.ApiResponse, context: Policy.CallContext) => Effect.Effect<Out, ApiError.ApiError>,
      /** A streamed call (`stream`): the scope its body belongs to. */
      scope?: Scope.Scope
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
      if (opts.compress === "gzip") {
        const gzipped = gzip(method, shownUrl, body)
        if (Either.isLeft(gzipped)) return Effect.fail(gzipped.left)
        body = gzipped.right
        headers = Headers.set(headers, "content-encoding", "gzip")
      }
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
        let context: Policy.CallContext = {
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
          identity,
          [redirect.callHeaders]: headers === clientHeaders
            ? clientCallHeaders
            : { headers, secret: new Set([...clientSecret, ...secretNames(opts.headers)]) }
        } as Policy.CallContext
        if (scope !== undefined) context = { ...context, streamed: true, [streamScope]: scope } as Policy.CallContext
        let sent = send(request, context)
        if (total !== undefined && !cooperative) {
          sent = timeout.timeoutFailOn(clock, sent, total, () => Policy.deadlineExceeded(context))
        }
        let out = Effect.flatMap(sent, (response) => finish(response, context))
        // Platform clients may print request headers while they run; apikit's own transport never does.
        if (transport.printsHeaders) out = Redaction.withHeaderRedaction(out)
        if (!attempt.tracing(fiber)) return out
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
      opts: ApiClient.RequestOptions<A, I, B, BI> = {}
    ): Effect.Effect<ApiClient.Exchange<A>, ApiError.ApiError> =>
      call(method, path, opts, (response, context) =>
        Effect.map(
          decode(response, opts.success, context),
          (value): ApiClient.Exchange<A> => ({ value, status: response.status, headers: response.headers })
        ))

    const request = <A, I, B, BI>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: ApiClient.RequestOptions<A, I, B, BI> = {}
    ): Effect.Effect<A, ApiError.ApiError> =>
      call(method, path, opts, (response, context) => decode(response, opts.success, context))

    const bytes = <B, BI>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: ApiClient.BodyOptions<B, BI> = {}
    ): Effect.Effect<Uint8Array, ApiError.ApiError> =>
      call(method, path, opts, (response) => Effect.succeed(response.body))

    const stream = <B, BI>(
      method: HttpMethod.HttpMethod,
      path: string,
      opts: ApiClient.BodyOptions<B, BI> = {}
    ): Effect.Effect<ApiClient.Streamed, ApiError.ApiError, Scope.Scope> =>
      Effect.flatMap(Effect.scope, (scope) =>
        call(
          method,
          path,
          opts,
          (response, context) =>
            Effect.succeed<ApiClient.Streamed>({
              status: response.status,
              headers: response.headers,
              body: attempt.bodyStream(response, context)
            }),
          scope
        ))

    return {
      name,
      baseUrl,
      exchange,
      request,
      bytes,
      stream,
      get: (path, opts) => request("GET", path, opts),
      delete: (path, opts) => request("DELETE", path, opts),
      post: (path, opts) => request("POST", path, opts),
      put: (path, opts) => request("PUT", path, opts),
      patch: (path, opts) => request("PATCH", path, opts)
    } satisfies ApiClient.ApiClient
  })
