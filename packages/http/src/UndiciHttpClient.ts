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
import { multipart } from "./internal/request.js"
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
 * Which proxy the client sends through:
 *
 * - `"env"`: `HTTP_PROXY` / `HTTPS_PROXY` (or their lower-case forms) and `NO_PROXY`, read
 *   once when the client is made (undici's `EnvHttpProxyAgent`);
 * - a proxy URL, `Redacted` when it carries credentials (`http://user:pass@proxy:3128`), which
 *   are sent as `Proxy-Authorization` and appear in no log line or error;
 * - `"none"`: connect directly, whatever the environment says.
 *
 * @since 0.1.0
 * @category options
 */
export type ProxyOption = "env" | "none" | string | Redacted.Redacted<string>

/**
 * How the client connects. Without options it uses undici's global dispatcher
 * (one set with undici 7's `setGlobalDispatcher`), or an `Agent` of its own
 * where the global one is the older undici that Node ships. The environment's
 * proxy is used when asked for (`proxy: "env"`), or when `NODE_USE_ENV_PROXY=1`
 * is set: the switch with which Node's own `fetch` reads it.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The undici dispatcher to send with (an `Agent`, a `Pool`, a `ProxyAgent`, a mock); other options are then ignored. */
  readonly dispatcher?: Undici.Dispatcher | undefined
  /** TLS settings of the connections to the API (through a proxy too). */
  readonly tls?: TlsOptions | undefined
  /** The proxy to send through (default: none, or the environment's with `NODE_USE_ENV_PROXY=1`). */
  readonly proxy?: ProxyOption | undefined
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
// The environment's proxy for clients made without options under NODE_USE_ENV_PROXY=1: one per process.
let envAgent: Undici.EnvHttpProxyAgent | undefined

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

/** Whether `uri` is a proxy URL undici takes: http: or https:, with a host. */
const proxyUrl = (uri: string): boolean => {
  if (!URL.canParse(uri)) return false
  const url = new URL(uri)
  return (url.protocol === "http:" || url.protocol === "https:") && url.host !== ""
}

/** The error of every call over a client whose proxy URL does not parse (its value is not repeated). */
const invalidProxy = (): Error =>
  Object.assign(
    new Error(
      "the proxy URL is not a valid URL; give it as http(s)://[user:password@]host:port (its value is not shown)"
    ),
    { code: "ERR_APIKIT_INVALID_PROXY" }
  )

/**
 * A dispatcher for a configuration that cannot work: every request fails with `cause`, so the
 * mistake reaches each call as a typed error instead of a throw where the client is made.
 */
class Unusable extends Undici.Dispatcher {
  constructor(private readonly cause: Error) {
    super()
  }
  override dispatch(_options: Undici.Dispatcher.DispatchOptions, handler: Undici.Dispatcher.DispatchHandler): boolean {
    const cause = this.cause
    const legacy = handler as { readonly onError?: (error: Error) => void }
    queueMicrotask(() => {
      if (typeof handler.onResponseError === "function") {
        handler.onResponseError(undefined as unknown as Undici.Dispatcher.DispatchController, cause)
      } else legacy.onError?.(cause)
    })
    return true
  }
  override close(): Promise<void> {
    return Promise.resolve()
  }
  override destroy(): Promise<void> {
    return Promise.resolve()
  }
}

/** The proxy in effect: the option, else the environment's when Node's switch for it is on. */
const proxyOf = (options: Options): ProxyOption =>
  options.proxy ?? (globalThis.process?.env?.["NODE_USE_ENV_PROXY"] === "1" ? "env" : "none")

/** The dispatcher `options` describe. @internal */
const dispatcherOf = (options: Options): Undici.Dispatcher => {
  if (options.dispatcher !== undefined) return options.dispatcher
  const tls = options.tls === undefined ? undefined : connectOptions(options.tls)
  const proxy = proxyOf(options)
  if (proxy === "env" && tls === undefined && options.proxy === undefined) {
    return envAgent ??= new Undici.EnvHttpProxyAgent()
  }
  if (proxy === "env") return new Undici.EnvHttpProxyAgent(tls === undefined ? {} : { connect: tls, requestTls: tls })
  if (proxy !== "none") {
    const uri = Redacted.isRedacted(proxy) ? Redacted.value(proxy) : proxy
    // undici would throw (for some mistakes with the URL, credentials and all, in its message).
    if (!proxyUrl(uri)) return new Unusable(invalidProxy())
    return new Undici.ProxyAgent(tls === undefined ? { uri } : { uri, requestTls: tls })
  }
  return tls === undefined ? globalDispatcher() : new Undici.Agent({ connect: tls })
}

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
      body: form === undefined ? bodyOf(request.body) : form.body as unknown as RequestBody,
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
          dispatcher === options.dispatcher || dispatcher === globalDispatcher() || dispatcher === envAgent
            ? Effect.void
            : Effect.promise(() => dispatcher.close())
      ),
      (dispatcher) => make(dispatcher)
    )
  )
