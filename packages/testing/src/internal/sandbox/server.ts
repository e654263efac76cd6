/**
 * Assembles the sandbox: the gateway in front of every request (arrival stats,
 * faults, authentication, per-client rate limit) and the routes behind it,
 * served by a Node HTTP server on 127.0.0.1.
 *
 * @internal
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import { createServer, type Server } from "node:http"
import type { Options, Sandbox } from "../../Sandbox.js"
import * as Api from "./api.js"
import * as Auth from "./auth.js"
import * as Faults from "./faults.js"
import * as GraphQL from "./graphql.js"
import * as Projects from "./projects.js"
import * as State from "./state.js"
import * as Webhooks from "./webhooks.js"

/** @internal */
export const defaultClient = {
  clientId: "sandbox-client",
  clientSecret: "sandbox-secret",
  apiKey: "sk_test_sandbox"
} as const

class CurrentClient extends Context.Tag("@apikit/testing/Sandbox/CurrentClient")<CurrentClient, string>() {}

const reveal = (value: string | Redacted.Redacted<string>) => Redacted.isRedacted(value) ? Redacted.value(value) : value

const millis = (input: Duration.DurationInput | undefined, fallback: Duration.DurationInput, name: string) => {
  const d = Duration.decodeUnknown(input ?? fallback)
  return d._tag === "Some" && Duration.isFinite(d.value) && Duration.toMillis(d.value) > 0
    ? Effect.succeed(Duration.toMillis(d.value))
    : Effect.fail(new Faults.InvalidOptions({ detail: `${name} must be a positive, finite duration` }))
}

const settingsFrom = (options: Options) =>
  Effect.gen(function*() {
    const clients = (options.clients ?? [defaultClient]).map((c) => ({
      clientId: c.clientId,
      clientSecret: reveal(c.clientSecret),
      ...(c.apiKey === undefined ? {} : { apiKey: reveal(c.apiKey) })
    }))
    const rateLimit = options.rateLimit ?? { limit: 100, window: "1 second" }
    if (rateLimit !== false && !(Number.isInteger(rateLimit.limit) && rateLimit.limit > 0)) {
      return yield* new Faults.InvalidOptions({ detail: "rateLimit.limit must be a positive integer" })
    }
    const port = options.port ?? 0
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return yield* new Faults.InvalidOptions({ detail: `port must be an integer from 0 to 65535, got ${port}` })
    }
    const maxAttempts = options.webhooks?.maxAttempts ?? 5
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
      return yield* new Faults.InvalidOptions({ detail: "webhooks.maxAttempts must be an integer from 1 to 100" })
    }
    return {
      port,
      clients,
      tokenLifetimeMillis: yield* millis(options.tokenLifetime, "1 hour", "tokenLifetime"),
      rateLimit: rateLimit === false ? undefined : {
        limit: rateLimit.limit,
        windowMillis: yield* millis(rateLimit.window, "1 second", "rateLimit.window")
      },
      idempotencyTtlMillis: yield* millis(options.idempotencyTtl, "24 hours", "idempotencyTtl"),
      uniqueNames: options.uniqueNames ?? true,
      webhooks: {
        maxAttempts,
        retryBaseMillis: yield* millis(options.webhooks?.retryBase, "1 second", "webhooks.retryBase"),
        timeoutMillis: yield* millis(options.webhooks?.timeout, "10 seconds", "webhooks.timeout")
      }
    } satisfies State.Settings & { readonly port: number }
  })

const routes = (state: State.State, emitter: Webhooks.Emitter, budget: GraphQL.Budget) => {
  const id = Effect.map(HttpRouter.params, (p) => p["id"] ?? "")
  return HttpRouter.empty.pipe(
    HttpRouter.post("/graphql", Effect.flatMap(CurrentClient, (client) => GraphQL.handler(state, client, budget))),
    HttpRouter.post("/oauth/token", Auth.tokenEndpoint(state)),
    HttpRouter.get("/v1/projects", Projects.list(state)),
    HttpRouter.post("/v1/projects", Effect.flatMap(CurrentClient, (client) => Projects.post(state, emitter, client))),
    HttpRouter.get("/v1/projects/:id", Effect.map(id, (i) => Projects.get(state, i))),
    HttpRouter.patch("/v1/projects/:id", Effect.flatMap(id, (i) => Projects.patch(state, emitter, i))),
    HttpRouter.del("/v1/projects/:id", Effect.flatMap(id, (i) => Projects.remove(state, emitter, i))),
    HttpRouter.post("/v1/webhook-endpoints", Webhooks.register(state)),
    HttpRouter.get("/v1/webhook-endpoints", Effect.sync(() => Webhooks.list(state))),
    HttpRouter.del("/v1/webhook-endpoints/:id", Effect.map(id, (i) => Webhooks.remove(state, i)))
  )
}

const control = (state: State.State) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/_stats", Effect.sync(() => HttpServerResponse.unsafeJson(State.snapshot(state)))),
    HttpRouter.get(
      "/openapi.json",
      Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
        HttpServerResponse.unsafeJson(Api.document(`http://${request.headers["host"] ?? "127.0.0.1"}`)))
    ),
    HttpRouter.put(
      "/_faults",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const text = yield* Effect.orElseSucceed(request.text, () =>
          "")
        const resolved = yield* Faults.parse(text).pipe(Effect.flatMap(Faults.resolve))
        state.faults = resolved
        return HttpServerResponse.empty({ status: 204 })
      }).pipe(
        Effect.catchTag("InvalidFaults", (e) =>
          Effect.succeed(HttpServerResponse.unsafeJson({ message: e.message }, { status: 422 })))
      )
    )
  )

// Fixed windows per client, opened by its first request, so `reset` and Retry-After are exact.
const admit = (state: State.State, client: string, now: number) => {
  const rl = state.settings.rateLimit
  if (rl === undefined) return { allowed: true, headers: {} as Record<string, string> }
  let window = state.windows.get(client)
  if (window === undefined || now >= window.start + rl.windowMillis) {
    window = { start: now, count: 0 }
    state.windows.set(client, window)
  }
  window.count++
  const end = window.start + rl.windowMillis
  const reset = Math.max(1, Math.ceil((end - now) / 1000))
  const remaining = Math.max(0, rl.limit - window.count)
  return {
    allowed: window.count <= rl.limit,
    retryAfter: reset,
    headers: {
      "ratelimit": `limit=${rl.limit}, remaining=${remaining}, reset=${reset}`,
      "ratelimit-policy": `${rl.limit};w=${Math.max(1, Math.round(rl.windowMillis / 1000))}`,
      "x-ratelimit-limit": String(rl.limit),
      "x-ratelimit-remaining": String(remaining),
      "x-ratelimit-reset": String(Math.ceil(end / 1000))
    } as Record<string, string>
  }
}

const tooMany = (retryAfter: number, headers: Record<string, string>, message: string) =>
  HttpServerResponse.unsafeJson({ message }, {
    status: 429,
    headers: { ...headers, "retry-after": String(retryAfter) }
  })

const resetConnection = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy())

const gateway = (state: State.State, emitter: Webhooks.Emitter, budget: GraphQL.Budget) => {
  const api = routes(state, emitter, budget)
  const internal = control(state)
  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = new URL(request.url, "http://sandbox").pathname
    // The control routes and the API description: no auth, no limits, no faults.
    if (path.startsWith("/_") || path === "/openapi.json") return yield* internal

    const now = yield* Clock.currentTimeMillis
    const identity: Auth.Identity = path === "/oauth/token"
      ? { _tag: "Missing" }
      : Auth.identify(state, request.headers, now)
    State.recordArrival(state, identity._tag === "Client" ? identity.clientId : "anonymous", now)

    const faults = state.faults
    if (faults.latencyMillis > 0 && (yield* state.random.next) < faults.latencyRate) {
      state.counters.delayed++
      yield* Effect.sleep(Duration.millis(faults.latencyMillis))
    }
    // Rolls happen only for configured faults, so a seed gives the same tokens and secrets with faults off.
    let fault: Faults.Outcome = Faults.anyExclusive(faults) ? Faults.outcome(faults, yield* state.random.next) : "none"
    if (fault === "reset" && (yield* state.random.next) < faults.resetAfterProcessing) fault = "resetAfter"
    switch (fault) {
      case "reset": {
        state.counters.resets++
        yield* resetConnection(request)
        return yield* Effect.interruptible(Effect.never)
      }
      case "hang":
        state.counters.hangs++
        // Ends when the client gives up or the sandbox stops. The platform runs handlers
        // uninterruptibly, so the wait must opt in to interruption or it outlives the server.
        return yield* Effect.interruptible(Effect.never)
      case "error": {
        state.counters.errors++
        const status = [500, 502, 503][yield* state.random.nextIntBetween(0, 3)]!
        return HttpServerResponse.unsafeJson({ message: "The server had a temporary problem; retry later" }, {
          status
        })
      }
      case "burst":
        state.counters.bursts++
        state.burstRemaining = faults.burstLength
        break
    }
    if (state.burstRemaining > 0) {
      state.burstRemaining--
      state.counters.rateLimited++
      return tooMany(1, {}, "The server is shedding load; retry after the Retry-After delay")
    }

    const handle = Effect.gen(function*() {
      if (!path.startsWith("/v1/") && path !== "/graphql") {
        return yield* Effect.provideService(api, CurrentClient, "anonymous")
      }
      if (identity._tag !== "Client") return Auth.unauthorized(identity)
      const limit = admit(state, identity.clientId, now)
      if (!limit.allowed) {
        state.counters.rateLimited++
        return tooMany(limit.retryAfter!, limit.headers, "Rate limit exceeded; retry after the Retry-After delay")
      }
      const response = yield* Effect.provideService(api, CurrentClient, identity.clientId)
      return HttpServerResponse.setHeaders(response, limit.headers)
    })
    if (fault !== "resetAfter") return yield* handle
    // The request took effect, but the client never learns it did.
    yield* handle
    state.counters.resets++
    yield* resetConnection(request)
    return yield* Effect.interruptible(Effect.never)
  }).pipe(
    Effect.catchTag(
      "RouteNotFound",
      () =>
        Effect.map(
          HttpServerRequest.HttpServerRequest,
          // The path only: a query may hold a secret the caller should not see echoed.
          (request) =>
            HttpServerResponse.unsafeJson({
              message: `No route for ${request.method} ${new URL(request.url, "http://sandbox").pathname}`
            }, { status: 404 })
        )
    )
  )
}

/** @internal */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const faults = yield* Faults.resolve(options.faults ?? {})
    const settings = yield* settingsFrom(options)
    const budget = { points: options.graphql?.points ?? 1000, restoreRate: options.graphql?.restoreRate ?? 50 }
    if (!(budget.points > 0 && Number.isFinite(budget.points) && budget.restoreRate > 0)) {
      return yield* new Faults.InvalidOptions({
        detail: "graphql.points and graphql.restoreRate must be positive numbers"
      })
    }
    const random = options.seed === undefined ? yield* Effect.random : Random.make(options.seed)
    const state = State.make(settings, random, faults)

    let server: Server | undefined
    const http = yield* NodeHttpServer.make(() => (server = createServer()), {
      port: settings.port,
      host: "127.0.0.1"
    })
    // server.close() waits for open connections: hung requests and idle keep-alives must go first.
    yield* Effect.addFinalizer(() => Effect.sync(() => server?.closeAllConnections()))
    const client = Context.get(yield* Layer.build(NodeHttpClient.layerUndici), HttpClient.HttpClient)
    const fibers = yield* FiberSet.make()
    yield* http.serve(gateway(state, Webhooks.makeEmitter(state, client, fibers), budget))
    const port = http.address._tag === "TcpAddress" ? http.address.port : 0
    const service: Sandbox["Type"] = {
      baseUrl: `http://127.0.0.1:${port}`,
      port,
      clients: options.clients ?? [defaultClient],
      stats: Effect.sync(() => State.snapshot(state)),
      setFaults: (next) =>
        Effect.map(Faults.resolve(next), (resolved) => {
          state.faults = resolved
        }),
      revokeTokens: Effect.sync(() => state.tokens.clear())
    }
    return service
  })
