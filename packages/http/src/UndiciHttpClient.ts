/**
 * A lean `HttpClient` over undici for Node: the platform `HttpClient`
 * interface, implemented with one `undici.request` per call and a small
 * response class, without the generic machinery of `HttpClient.make` (a span,
 * a URL re-parse and a finalization registry per request). ApiClient goes
 * lower still when it finds this client unwrapped: its attempts use undici's
 * `dispatch` with a handler that reads the body itself (no body stream, no
 * promise per step). It is apikit's default Node transport; measured in
 * `pnpm bench http`.
 *
 * It does not create spans or propagate trace headers (ApiClient records its
 * own, with masked URLs). Interruption aborts the request, and a body that is
 * not read is destroyed when the attempt ends, so sockets are never leaked.
 *
 * Import it from its own path so code that does not need it never loads undici:
 *
 * @since 0.1.0
 * @example
 * import { ApiClient } from "@apikit/http"
 * import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
 * import { Effect } from "effect"
 *
 * // Any program that needs an HttpClient (an ApiClient's, for instance).
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.example.com" })
 *   return yield* api.get("/v1/status")
 * }).pipe(Effect.provide(UndiciHttpClient.layer))
 */
import * as Cookies from "@effect/platform/Cookies"
import * as Headers from "@effect/platform/Headers"
import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Undici from "undici"
import * as transports from "./internal/transport.js"
import * as undici from "./internal/undici.js"

type Body = Undici.Dispatcher.ResponseData["body"]

type RequestBody = Exclude<Undici.Dispatcher.DispatchOptions["body"], undefined>

const bodyOf = (body: HttpBody.HttpBody): RequestBody => {
  switch (body._tag) {
    case "Empty":
      return null
    case "Uint8Array":
      return body.body
    case "Raw":
      return body.body as RequestBody
    case "FormData":
      // Handled in `options` (it needs its content-type): undici 7 cannot serialize Node 20's FormData.
      return null
    case "Stream":
      return Stream.toAsyncIterable(Stream.orDie(body.stream)) as unknown as RequestBody
  }
}

/**
 * A FormData (files and fields) as a multipart/form-data stream and its content-type with the
 * boundary, serialized by Node's own web `Response` (the fetch implementation bundled with Node),
 * which knows the global FormData that undici 7's dispatcher cannot serialize. Made anew on each
 * attempt, so a form body can be sent again.
 */
const multipart = (formData: FormData): { readonly body: RequestBody; readonly contentType: string } => {
  const response = new globalThis.Response(formData)
  return {
    body: response.body as unknown as RequestBody,
    contentType: response.headers.get("content-type") ?? "multipart/form-data"
  }
}

/** `https://host:port/path` → origin and path without re-parsing a URL. */
const target = (request: HttpClientRequest.HttpClientRequest): { origin: string; path: string } => {
  const url = request.url
  const slash = url.indexOf("/", url.indexOf("//") + 2)
  const origin = slash < 0 ? url : url.slice(0, slash)
  let path = slash < 0 ? "/" : url.slice(slash)
  if (request.urlParams.length > 0) path += (path.includes("?") ? "&" : "?") + UrlParams.toString(request.urlParams)
  return { origin, path }
}

class UndiciResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly [IncomingMessage.TypeId]: IncomingMessage.TypeId = IncomingMessage.TypeId
  private cachedHeaders: Headers.Headers | undefined
  private buffer: Promise<ArrayBuffer> | undefined

  constructor(
    readonly request: HttpClientRequest.HttpClientRequest,
    private readonly source: Undici.Dispatcher.ResponseData
  ) {
    super()
    // A body that errors after nobody listens must not become an unhandled error.
    source.body.on("error", () => {})
  }

  get status() {
    return this.source.statusCode
  }
  get headers() {
    return this.cachedHeaders ??= Headers.fromInput(this.source.headers as Record<string, string | Array<string>>)
  }
  get cookies() {
    const header = this.source.headers["set-cookie"]
    return header === undefined ? Cookies.empty : Cookies.fromSetCookie(Array.isArray(header) ? header : [header])
  }
  get remoteAddress() {
    return Option.none()
  }
  private fail(cause: unknown): HttpClientError.ResponseError {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }
  private read<A>(f: (buffer: ArrayBuffer) => A): Effect.Effect<A, HttpClientError.ResponseError> {
    const body: Body = this.source.body
    return Effect.async<A, HttpClientError.ResponseError>((resume) => {
      this.buffer ??= body.arrayBuffer()
      this.buffer.then(
        (buffer) => {
          try {
            resume(Effect.succeed(f(buffer)))
          } catch (cause) {
            resume(Effect.fail(this.fail(cause)))
          }
        },
        (cause) => resume(Effect.fail(this.fail(cause)))
      )
      // Interrupted while reading: drop the connection rather than drain it.
      return Effect.sync(() => body.destroy())
    })
  }
  get arrayBuffer() {
    return this.read((buffer) => buffer)
  }
  get text() {
    return this.read((buffer) => new TextDecoder().decode(buffer))
  }
  get json() {
    return this.read((buffer): unknown => {
      const text = new TextDecoder().decode(buffer)
      return text === "" ? null : JSON.parse(text)
    })
  }
  get urlParamsBody() {
    return this.read((buffer) => UrlParams.fromInput(new URLSearchParams(new TextDecoder().decode(buffer))))
  }
  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.fail(this.fail("formData is not supported by the undici transport"))
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return Stream.fromAsyncIterable(this.source.body as AsyncIterable<Uint8Array>, (cause) => this.fail(cause))
  }
  toJSON(): unknown {
    return {
      _id: "@apikit/http/UndiciHttpClient/Response",
      status: this.status,
      headers: Inspectable.redact(this.headers)
    }
  }
}

/**
 * TLS settings of the connections: a private CA, a client certificate for
 * mTLS, the name the server's certificate must carry. A certificate the
 * client cannot verify fails the call with `Transport{reason: "Tls"}` whose
 * message starts with the OpenSSL/Node code (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `ERR_TLS_CERT_ALTNAME_INVALID`, `CERT_HAS_EXPIRED`, ...).
 *
 * @since 0.1.0
 * @category options
 */
export interface TlsOptions {
  /** Certificate authorities to trust (PEM), instead of Node's bundled roots. */
  readonly ca?: string | Uint8Array | ReadonlyArray<string | Uint8Array> | undefined
  /** The client certificate chain (PEM), for servers that require mTLS. */
  readonly cert?: string | Uint8Array | undefined
  /** The client certificate's private key (PEM); keep it `Redacted` until here. */
  readonly key?: Redacted.Redacted<string> | string | Uint8Array | undefined
  /** The server name to send (SNI) and to check the certificate against, when it is not the URL's host. */
  readonly servername?: string | undefined
}

/**
 * How the client connects. Without options it uses undici's global dispatcher
 * (one set with undici 7's `setGlobalDispatcher`), or an `Agent` of its own
 * where the global one is the older undici that Node ships.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The undici dispatcher to send with (an `Agent`, a `Pool`, a `ProxyAgent`, a mock). */
  readonly dispatcher?: Undici.Dispatcher | undefined
  /** TLS settings; they make a dispatcher of their own (an `Agent`) when `dispatcher` is not given. */
  readonly tls?: TlsOptions | undefined
}

const connectOptions = (tls: TlsOptions): Undici.buildConnector.BuildOptions => {
  const key = tls.key
  return {
    ...(tls.ca === undefined ? {} : { ca: tls.ca as Array<string> }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert as string }),
    ...(key === undefined ? {} : { key: Redacted.isRedacted(key) ? Redacted.value(key) : key as string }),
    ...(tls.servername === undefined ? {} : { servername: tls.servername })
  }
}

const dispatcherApi2 = Symbol.for("undici.globalDispatcher.2")
let ownAgent: Undici.Agent | undefined

/**
 * The default dispatcher: undici's global one when it speaks undici 7's
 * handler API, else one `Agent` of apikit's own for the process. Node installs
 * the undici it ships (for `fetch`) as the global dispatcher at start-up, and
 * that is 6.x on Node 20 and 22, whose `dispatch` takes only the old handler
 * API ("invalid onError method"). A dispatcher installed with undici 7's
 * `setGlobalDispatcher` (a `ProxyAgent`, an `EnvHttpProxyAgent`) is registered
 * under the newer key and used as is.
 *
 * @internal
 */
const globalDispatcher = (): Undici.Dispatcher =>
  (globalThis as { readonly [dispatcherApi2]?: Undici.Dispatcher })[dispatcherApi2] ?? (ownAgent ??= new Undici.Agent())

/** The dispatcher `options` describe. @internal */
const dispatcherOf = (options: Options): Undici.Dispatcher =>
  options.dispatcher ??
    (options.tls === undefined
      ? globalDispatcher()
      : new Undici.Agent({ connect: connectOptions(options.tls) }))

/**
 * An `HttpClient` over an undici dispatcher (the global one by default), or
 * over the dispatcher that `options` describe (TLS settings).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Undici.Dispatcher | Options = {}): HttpClient.HttpClient => {
  const dispatcher = input instanceof Undici.Dispatcher ? input : dispatcherOf(input)
  const options = (request: HttpClientRequest.HttpClientRequest) => {
    const { origin, path } = target(request)
    const form = request.body._tag === "FormData" ? multipart(request.body.formData) : undefined
    return {
      origin,
      path,
      method: request.method,
      headers: form === undefined ? request.headers : { ...request.headers, "content-type": form.contentType },
      body: form === undefined ? bodyOf(request.body) : form.body,
      // Timeouts belong to the Effect clock (ApiClient's attempt timeout), not to the socket.
      headersTimeout: 0,
      bodyTimeout: 0
    }
  }
  const client = HttpClient.makeWith(
    (effect: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
      Effect.flatMap(
        effect,
        (request) =>
          Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>((resume) => {
            const aborter = undici.makeAbort()
            ;(dispatcher.request({ ...options(request), signal: aborter }) as Promise<Undici.Dispatcher.ResponseData>)
              .then(
                (response) => resume(Effect.succeed(new UndiciResponse(request, response))),
                (cause) =>
                  resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
              )
            return Effect.sync(() => undici.triggerAbort(aborter))
          })
      ),
    Effect.succeed
  )
  // ApiClient runs its attempts straight over undici's dispatch when it finds this client unwrapped.
  transports.register(client, undici.transport(dispatcher, options))
  return client
}

/**
 * The lean undici `HttpClient` on undici's global dispatcher.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.sync(HttpClient.HttpClient, () => make())

/**
 * The lean undici `HttpClient` with options (TLS settings, a dispatcher). A
 * dispatcher it makes itself is closed when the layer is released.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
 * import { Config, Effect, Layer } from "effect"
 *
 * // A private CA and a client certificate (mTLS), from configuration.
 * const transport = Layer.unwrapEffect(Effect.gen(function*() {
 *   return UndiciHttpClient.layerWith({
 *     tls: {
 *       ca: yield* Config.string("API_CA_PEM"),
 *       cert: yield* Config.string("API_CLIENT_CERT_PEM"),
 *       key: yield* Config.redacted("API_CLIENT_KEY_PEM")
 *     }
 *   })
 * }))
 */
export const layerWith = (options: Options): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => dispatcherOf(options)),
        (dispatcher) =>
          dispatcher === options.dispatcher || dispatcher === globalDispatcher()
            ? Effect.void
            : Effect.promise(() => dispatcher.close())
      ),
      (dispatcher) => make(dispatcher)
    )
  )
