/**
 * An in-memory `HttpClient` for tests: routes by method and path pattern,
 * scripted reply sequences (503, 503, 200), injected transport errors, delays
 * on the Effect clock (so `TestClock` drives them), hangs, and a recorder of
 * everything that was sent.
 *
 * @since 0.1.0
 * @example
 * import { MockHttp } from "@apikit/testing"
 *
 * const http = MockHttp.layer([
 *   MockHttp.get("/v1/projects/:id", (req) => MockHttp.json(200, { id: req.params.id })),
 *   MockHttp.post("/v1/projects", MockHttp.sequence(MockHttp.status(503), MockHttp.json(201, { id: "p_1" })))
 * ])
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as HttpMethod from "@effect/platform/HttpMethod"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"

/**
 * A request as a handler sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface MockRequest {
  readonly method: HttpMethod.HttpMethod
  readonly url: URL
  /** Values of the route's `:name` segments. */
  readonly params: Readonly<Record<string, string>>
  readonly headers: Headers.Headers
  readonly body: Uint8Array
  /** The body as UTF-8 text. */
  readonly text: string
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown
}

/**
 * A recorded request, as the recorder keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest extends MockRequest {
  /** The route pattern it matched. */
  readonly route: string
}

/**
 * What a route answers.
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | {
    readonly _tag: "Response"
    readonly status: number
    readonly headers: Readonly<Record<string, string>>
    readonly body: string | Uint8Array
  }
  | { readonly _tag: "TransportError"; readonly code: string }
  | { readonly _tag: "Delay"; readonly duration: Duration.Duration; readonly reply: Reply }
  | { readonly _tag: "Hang" }

/**
 * A route handler: a reply, or a function of the request to a reply (or an effect of one).
 *
 * @since 0.1.0
 * @category models
 */
export type Handler =
  | Reply
  | Sequence
  | ((request: MockRequest) => Reply | Effect.Effect<Reply>)

/**
 * Replies played in order, one per request; the last one repeats.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sequence {
  readonly _tag: "Sequence"
  readonly replies: ReadonlyArray<Reply>
}

/**
 * A route: a method (or `*`) and a path pattern (`/v1/projects/:id`, `*` matches
 * the rest). A pattern that starts with `http://` or `https://` also matches the origin.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route {
  readonly method: HttpMethod.HttpMethod | "*"
  readonly pattern: string
  readonly handler: Handler
}

/**
 * A response with a JSON body.
 *
 * @since 0.1.0
 * @category replies
 */
export const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Reply => ({
  _tag: "Response",
  status,
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body)
})

/**
 * A response with a text (or byte) body.
 *
 * @since 0.1.0
 * @category replies
 */
export const text = (
  status: number,
  body: string | Uint8Array,
  headers: Readonly<Record<string, string>> = {}
): Reply => ({ _tag: "Response", status, headers: { "content-type": "text/plain", ...headers }, body })

/**
 * A response with no body.
 *
 * @since 0.1.0
 * @category replies
 */
export const status = (status: number, headers: Readonly<Record<string, string>> = {}): Reply => ({
  _tag: "Response",
  status,
  headers,
  body: ""
})

/**
 * A transport failure, as the socket would report it (`ECONNRESET`,
 * `ECONNREFUSED`, `ENOTFOUND`, `CERT_HAS_EXPIRED`, ...).
 *
 * @since 0.1.0
 * @category replies
 */
export const transportError = (code = "ECONNRESET"): Reply => ({ _tag: "TransportError", code })

/**
 * Answers after `duration` of Effect clock time (driven by `TestClock` in tests).
 *
 * @since 0.1.0
 * @category replies
 */
export const delay = (duration: Duration.DurationInput, reply: Reply): Reply => ({
  _tag: "Delay",
  duration: Duration.decode(duration),
  reply
})

/**
 * Never answers; the caller's timeout (or interruption) ends the request.
 *
 * @since 0.1.0
 * @category replies
 */
export const hang: Reply = { _tag: "Hang" }

/**
 * Plays replies in order, one per request; the last repeats.
 *
 * @since 0.1.0
 * @category replies
 */
export const sequence = (...replies: [Reply, ...Array<Reply>]): Sequence => ({ _tag: "Sequence", replies })

/**
 * A route for a method and a path pattern.
 *
 * @since 0.1.0
 * @category routes
 */
export const route = (method: HttpMethod.HttpMethod | "*", pattern: string, handler: Handler): Route => ({
  method,
  pattern,
  handler
})

/**
 * @since 0.1.0
 * @category routes
 */
export const get = (pattern: string, handler: Handler): Route => route("GET", pattern, handler)
/**
 * @since 0.1.0
 * @category routes
 */
export const post = (pattern: string, handler: Handler): Route => route("POST", pattern, handler)
/**
 * @since 0.1.0
 * @category routes
 */
export const put = (pattern: string, handler: Handler): Route => route("PUT", pattern, handler)
/**
 * @since 0.1.0
 * @category routes
 */
export const patch = (pattern: string, handler: Handler): Route => route("PATCH", pattern, handler)
/**
 * @since 0.1.0
 * @category routes
 */
export const del = (pattern: string, handler: Handler): Route => route("DELETE", pattern, handler)

/**
 * The recorder of a MockHttp layer: what was sent, in order.
 *
 * @since 0.1.0
 * @category services
 */
export class MockHttp extends Context.Tag("@apikit/testing/MockHttp")<MockHttp, {
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clear: Effect.Effect<void>
}>() {}

/**
 * Every request sent so far.
 *
 * @since 0.1.0
 * @category accessors
 */
export const requests: Effect.Effect<ReadonlyArray<RecordedRequest>, never, MockHttp> = Effect.flatMap(
  MockHttp,
  (m) => m.requests
)

/**
 * How many requests were sent, optionally only those matching a method and/or route pattern.
 *
 * @since 0.1.0
 * @category accessors
 */
export const count = (
  filter: { readonly method?: HttpMethod.HttpMethod; readonly route?: string } = {}
): Effect.Effect<number, never, MockHttp> =>
  Effect.map(
    requests,
    (all) =>
      all.filter((r) =>
        (filter.method === undefined || r.method === filter.method) &&
        (filter.route === undefined || r.route === filter.route)
      ).length
  )

interface Compiled {
  readonly route: Route
  readonly match: (url: URL) => Record<string, string> | undefined
}

const compile = (route: Route): Compiled => {
  const absolute = /^https?:\/\//i.test(route.pattern)
  const origin = absolute ? new URL(route.pattern).origin : undefined
  const path = absolute ? new URL(route.pattern).pathname : route.pattern
  const names: Array<string> = []
  const source = path.split("/").map((segment) => {
    if (segment === "*") return ".*"
    const m = /^:([A-Za-z_][A-Za-z0-9_]*)$/.exec(segment)
    if (m !== null) {
      names.push(m[1]!)
      return "([^/]+)"
    }
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  }).join("/")
  const regex = new RegExp(`^${source}/?$`)
  return {
    route,
    match: (url) => {
      if (origin !== undefined && url.origin !== origin) return undefined
      const m = regex.exec(url.pathname)
      if (m === null) return undefined
      const params: Record<string, string> = {}
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1]!)
      })
      return params
    }
  }
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Uint8Array => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return body.body
    case "Raw":
      return typeof body.body === "string"
        ? new TextEncoder().encode(body.body)
        : body.body instanceof Uint8Array
        ? body.body
        : new Uint8Array(0)
    default:
      return new Uint8Array(0)
  }
}

const noBodyStatuses = new Set([101, 103, 204, 205, 304])

const respond = (
  request: HttpClientRequest.HttpClientRequest,
  reply: Reply
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (reply._tag) {
    case "Response": {
      if (reply.status < 200 || reply.status > 599) {
        return Effect.dieMessage(`MockHttp: status ${reply.status} cannot be represented (use 200-599)`)
      }
      const body = noBodyStatuses.has(reply.status) ? null : (reply.body as BodyInit)
      return Effect.succeed(
        HttpClientResponse.fromWeb(request, new Response(body, { status: reply.status, headers: reply.headers }))
      )
    }
    case "TransportError":
      return Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: Object.assign(new Error(`MockHttp: ${reply.code}`), { code: reply.code })
        })
      )
    case "Delay":
      return Effect.zipRight(Effect.sleep(reply.duration), respond(request, reply.reply))
    case "Hang":
      return Effect.never
  }
}

const describe = (routes: ReadonlyArray<Route>) =>
  routes.length === 0 ? "(no routes)" : routes.map((r) => `${r.method} ${r.pattern}`).join(", ")

/**
 * A layer providing an in-memory `HttpClient` that serves `routes`, and the
 * {@link MockHttp} recorder. A request that matches no route is a defect whose
 * message lists the routes: it is a mistake in the test, not an API failure to handle.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (routes: ReadonlyArray<Route>): Layer.Layer<HttpClient.HttpClient | MockHttp> =>
  Layer.effectContext(Effect.gen(function*() {
    const compiled = routes.map(compile)
    const counters = new Map<Route, number>()
    const recorded = yield* Ref.make<ReadonlyArray<RecordedRequest>>([])

    const client = HttpClient.make((request, url) => {
      const method = request.method
      for (const c of compiled) {
        if (c.route.method !== "*" && c.route.method !== method) continue
        const params = c.match(url)
        if (params === undefined) continue
        const body = bodyOf(request)
        const text = new TextDecoder().decode(body)
        let parsed: unknown = undefined
        try {
          parsed = text.length === 0 ? undefined : JSON.parse(text)
        } catch {
          parsed = undefined
        }
        const mockRequest: RecordedRequest = {
          method,
          url,
          params,
          headers: request.headers,
          body,
          text,
          json: parsed,
          route: c.route.pattern
        }
        const handler = c.route.handler
        let reply: Effect.Effect<Reply>
        if (typeof handler === "function") {
          const out = handler(mockRequest)
          reply = Effect.isEffect(out) ? out : Effect.succeed(out)
        } else if (handler._tag === "Sequence") {
          const n = counters.get(c.route) ?? 0
          counters.set(c.route, n + 1)
          reply = Effect.succeed(handler.replies[Math.min(n, handler.replies.length - 1)]!)
        } else {
          reply = Effect.succeed(handler)
        }
        return Effect.zipRight(
          Ref.update(recorded, (all) => [...all, mockRequest]),
          Effect.flatMap(reply, (r) => respond(request, r))
        )
      }
      return Effect.dieMessage(
        `MockHttp: no route matches ${method} ${url.origin}${url.pathname}. Routes: ${describe(routes)}`
      )
    })

    return Context.make(HttpClient.HttpClient, client).pipe(
      Context.add(MockHttp, {
        requests: Ref.get(recorded),
        clear: Ref.set(recorded, [])
      })
    )
  }))
