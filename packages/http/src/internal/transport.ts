/**
 * What an attempt runs over: a transport starts one exchange and feeds the
 * body reader ({@link Sink}) with the response head, the body chunks and the
 * end, or the failure. Two kinds, chosen once when a client is built:
 *
 * - apikit's `UndiciHttpClient`, unwrapped, registers a transport over
 *   undici's `dispatch` (internal/undici.ts): the handler's callbacks feed the
 *   reader directly, with no fiber, promise or stream per exchange.
 * - Any other platform `HttpClient` (fetch, node, undici from
 *   `@effect/platform-node`, MockHttp, a wrapped client) runs in a fiber of
 *   its own that executes the request and pulls the body stream into the reader.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import * as Stream from "effect/Stream"
import { declaredLength, Defect, type Sink } from "./body.js"
import { multipart } from "./request.js"

/** A started exchange. @internal */
export interface Exchange {
  /** Stops the exchange (the request, or the body being read); later calls do nothing. */
  abort(): void
  /** Stops feeding body chunks until {@link resume} (a streamed body whose consumer is behind). */
  pause(): void
  resume(): void
}

/** @internal */
export interface Transport {
  /**
   * Starts one exchange feeding `sink`. Never throws: a failure to start is
   * reported to `sink.fail`. `fiber` is the fiber of the attempt (its
   * services and FiberRefs).
   */
  readonly start: (
    request: HttpClientRequest.HttpClientRequest,
    sink: Sink,
    fiber: Fiber.RuntimeFiber<unknown, unknown>
  ) => Exchange
  /** Whether the transport may print request headers while it runs (platform clients log and trace). */
  readonly printsHeaders: boolean
}

const registry = new WeakMap<HttpClient.HttpClient, Transport>()

/** Registers the transport an attempt uses for `client` (UndiciHttpClient's dispatch). @internal */
export const register = (client: HttpClient.HttpClient, transport: Transport): void => {
  registry.set(client, transport)
}

/** Whether `client` has a transport of its own (an unwrapped UndiciHttpClient). @internal */
export const isNative = (client: HttpClient.HttpClient): boolean => registry.has(client)

/**
 * The transport for a platform client: its registered one, or the generic one.
 *
 * @internal
 */
export const of = (client: HttpClient.HttpClient): Transport => {
  let transport = registry.get(client)
  if (transport === undefined) {
    transport = fromHttpClient(client)
    registry.set(client, transport)
  }
  return transport
}

// The fetch client's response wraps a web Response, whose body fetch has already decoded
// (Content-Encoding is kept in the headers): decoding it again would fail.
// (The platform client wraps its responses: the web Response is the `source` of the `original`.)
const decodedByTransport = (response: HttpClientResponse.HttpClientResponse): boolean => {
  if (typeof globalThis.Response !== "function") return false
  let current = response as unknown as { readonly source?: unknown; readonly original?: unknown } | undefined
  for (let depth = 0; depth < 4 && current !== undefined; depth++) {
    if (current.source instanceof globalThis.Response) return true
    current = current.original as typeof current
  }
  return false
}

/**
 * Whether the platform client failed to serialize a FormData body before sending anything: undici 7
 * (`NodeHttpClient.layerUndici`) does not know the global FormData of Node 20 and 22, whose fetch
 * bundles undici 6, and fails with "action is not a function".
 */
const unserializableForm = (error: HttpClientError.HttpClientError): boolean =>
  error._tag === "RequestError" && error.cause instanceof TypeError &&
  error.cause.message.includes("action is not a function")

/**
 * Executes the request; a FormData body that the platform client cannot serialize is sent again
 * as the multipart stream Node's own `Response` serializes it to (nothing was sent the first
 * time). Other clients (fetch, node:http, test mocks) get the FormData itself, as they expect.
 */
const execute = (http: HttpClient.HttpClient, request: HttpClientRequest.HttpClientRequest) => {
  const body = request.body
  if (body._tag !== "FormData") return http.execute(request)
  return Effect.catchIf(http.execute(request), unserializableForm, () => {
    const form = multipart(body.formData)
    return http.execute(HttpClientRequest.setBody(
      request,
      HttpBody.stream(Stream.fromReadableStream(() => form.body, (cause) => cause), form.contentType)
    ))
  })
}

/** Whether the body stream is pulled: a paused exchange parks the pull until resumed. */
class Flow {
  paused = false
  private waiting: (() => void) | undefined = undefined
  pause(): void {
    this.paused = true
  }
  resume(): void {
    this.paused = false
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.()
  }
  /** `more`, once the flow is not paused. */
  gate(more: boolean): Effect.Effect<boolean> {
    if (!this.paused || !more) return Effect.succeed(more)
    return Effect.async<boolean>((resume) => {
      this.waiting = () => resume(Effect.succeed(more))
      if (!this.paused) this.resume()
    })
  }
}

const pump = (
  http: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest,
  sink: Sink,
  flow: Flow
): Effect.Effect<void> =>
  execute(http, request).pipe(
    Effect.flatMap((response) => {
      // Not pulling a body any more cancels its stream: the platform client closes the connection.
      if (!sink.head(response.status, response.headers, decodedByTransport(response))) {
        return Effect.ignore(Stream.runHead(response.stream))
      }
      if (!sink.streaming && declaredLength(response.headers["content-length"]) !== undefined) {
        // A declared length within the limit: one read instead of a stream of chunks.
        return Effect.map(response.arrayBuffer, (buffer) => {
          if (sink.data(new Uint8Array(buffer))) sink.end()
        })
      }
      return Effect.map(
        Stream.runForEachWhile(response.stream, (chunk) => flow.gate(sink.data(chunk))),
        () => sink.end()
      )
    }),
    // Whatever ends the exchange early (a transport error, a defect, an interruption) settles the reader.
    Effect.catchAllCause((cause) =>
      Effect.sync(() =>
        sink.fail(
          !Cause.isFailure(cause) && Cause.isDie(cause) ? new Defect(Cause.squash(cause)) : Cause.squash(cause)
        )
      )
    )
  )

// fetch follows redirects by itself (and takes along any header but Authorization to another
// origin): it is told not to, so the attempt's redirect policy decides (internal/redirect.ts).
const manualRedirects = (context: Context.Context<never>): Context.Context<never> => {
  const init: RequestInit = Context.getOrElse(context, FetchHttpClient.RequestInit, () => ({}))
  return init.redirect === "manual"
    ? context
    : Context.add(context, FetchHttpClient.RequestInit, { ...init, redirect: "manual" })
}

/**
 * The generic transport over a platform `HttpClient`: the exchange runs in a
 * fiber of its own (with the attempt's services and FiberRefs), aborting it
 * interrupts that fiber. The platform's own span is disabled: it would record
 * the full URL, query secrets included; ApiClient records its own.
 *
 * @internal
 */
export const fromHttpClient = (platform: HttpClient.HttpClient): Transport => {
  const http = HttpClient.withTracerDisabledWhen(platform, () => true)
  return {
    printsHeaders: true,
    start(request, sink, fiber) {
      const runtime = Runtime.make({
        context: manualRedirects(fiber.currentContext),
        fiberRefs: fiber.getFiberRefs(),
        runtimeFlags: Runtime.defaultRuntimeFlags
      })
      const flow = new Flow()
      const child = Runtime.runFork(runtime)(pump(http, request, sink, flow))
      return {
        abort: () => child.unsafeInterruptAsFork(FiberId.none),
        pause: () => flow.pause(),
        resume: () => flow.resume()
      }
    }
  }
}
