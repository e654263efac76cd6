/**
 * An HTTP handler for @effect/platform `HttpServer` / `HttpRouter` that
 * receives webhooks: it reads the raw body with a size limit, verifies it,
 * decodes the JSON (or form) into typed events with Schema, drops replays and
 * dispatches by event type.
 *
 * Answers: 2xx on success and for duplicates (already processed: the provider
 * must stop); 413 past the size limit, before any HMAC work; 400 for missing or
 * malformed headers and bodies; 401 for signatures and timestamps that do not
 * verify (with a generic body that helps no attacker); 500 when the handler
 * fails, so the provider delivers again.
 *
 * @since 0.1.0
 * @example
 * import { Receiver, ReplayGuard, StandardWebhooks } from "@apikit/webhooks"
 * import * as HttpRouter from "@effect/platform/HttpRouter"
 * import { Effect, Redacted, Schema } from "effect"
 *
 * const InvoicePaid = Schema.Struct({ type: Schema.Literal("invoice.paid"), data: Schema.Struct({ id: Schema.String }) })
 *
 * const router = Effect.gen(function*() {
 *   const verifier = yield* StandardWebhooks.verifier({ secrets: Redacted.make("whsec_…") })
 *   return HttpRouter.empty.pipe(HttpRouter.post("/webhooks", Receiver.make({
 *     verifier,
 *     routes: [Receiver.on("invoice.paid", InvoicePaid, (event) => Effect.log(`paid ${event.data.id}`))]
 *   })))
 * })
 * // provide ReplayGuard.layerMemory() (or the Redis layer) to the server
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { ReplayGuard } from "./ReplayGuard.js"
import * as Webhook from "./Webhook.js"

/**
 * A verified, decoded delivery, as a handler sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery<A> {
  readonly event: A
  /** The event type the delivery was dispatched on, when it has one. */
  readonly type: string | undefined
  readonly verified: Webhook.Verified
  readonly headers: Webhook.HeadersInput
  /** The raw body, exactly as received and verified. */
  readonly body: Uint8Array
}

/**
 * One event type, its Schema and its handler.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route<E, R> {
  readonly type: string
  readonly decode: (json: unknown) => Either.Either<unknown, ParseResult.ParseError>
  readonly handle: (event: unknown, delivery: Delivery<unknown>) => Effect.Effect<void, E, R>
}

/**
 * Routes deliveries of event type `type` to `handle`, after decoding them with `schema`.
 *
 * @since 0.1.0
 * @category routes
 */
export const on = <A, I, E, R>(
  type: string,
  schema: Schema.Schema<A, I, never>,
  handle: (event: A, delivery: Delivery<A>) => Effect.Effect<void, E, R>
): Route<E, R> => ({
  type,
  decode: Schema.decodeUnknownEither(schema) as (json: unknown) => Either.Either<unknown, ParseResult.ParseError>,
  handle: handle as (event: unknown, delivery: Delivery<unknown>) => Effect.Effect<void, E, R>
})

/**
 * @since 0.1.0
 * @category options
 */
export interface Options<Routes extends ReadonlyArray<Route<any, any>>, FE, FR> {
  readonly verifier: Webhook.Verifier
  readonly routes: Routes
  /** Deliveries of unknown types; acknowledged without processing when absent. */
  readonly fallback?: (delivery: Delivery<unknown>) => Effect.Effect<void, FE, FR>
  /** Where the event type is. Default: the JSON body's `type` field (use `GitHub.eventType` for GitHub). */
  readonly eventType?: (json: unknown, headers: Webhook.HeadersInput) => string | undefined
  /** The id for replay protection. Default: the verified header id, else the body's `id` or `event_id`. */
  readonly deliveryId?: (verified: Webhook.Verified, json: unknown) => string | undefined
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number
  /** The public URL of the request (Twilio signs it). Default `http://<host><path>`. */
  readonly url?: (request: HttpServerRequest.HttpServerRequest) => string
  /**
   * A handshake to answer instead of dispatching, after verification: when it
   * returns a string, that is the 200 body (e.g. `Slack.urlVerification`).
   */
  readonly challenge?: (json: unknown) => string | undefined
}

/**
 * What the receiver answers: a status and a short, generic body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly status: number
  readonly body: string
}

type RouteContext<T> = T extends Route<any, infer R> ? R : never

const field = (json: unknown, name: string): string | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const value = (json as Record<string, unknown>)[name]
  return typeof value === "string" ? value : undefined
}

const defaultDeliveryId = (verified: Webhook.Verified, json: unknown) =>
  verified.id ?? field(json, "id") ?? field(json, "event_id")

const statusOf = (reason: Webhook.Reason): number => {
  switch (reason) {
    case "BodyTooLarge":
      return 413
    case "NoMatchingSignature":
    case "TimestampTooOld":
    case "TimestampTooNew":
      return 401
    case "Replayed":
      return 200
    default:
      return 400
  }
}

// Bodies say only what class of failure it was: details stay in the server's logs.
const answer = (status: number, body?: string): Answer => ({
  status,
  body: body ?? (status === 200 ? "ok" : status === 401 ? "unauthorized" : status === 413 ?
    "payload too large" :
    status === 500
    ? "handler failed"
    : "bad request")
})

const reply = ({ body, status }: Answer) =>
  HttpServerResponse.text(body, { status, headers: status === 413 ? { connection: "close" } : {} })

class TooLarge {
  readonly _tag = "TooLarge"
}

const readBody = (
  request: HttpServerRequest.HttpServerRequest,
  max: number
): Effect.Effect<Uint8Array, TooLarge | "ReadFailed"> => {
  const declared = request.headers["content-length"]
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > max) return Effect.fail(new TooLarge())
  const chunks: Array<Uint8Array> = []
  let size = 0
  // Past the limit the rest is read and dropped rather than the stream stopped: stopping
  // destroys the socket and the client would never see the 413. Past a generous
  // extra allowance the stream is stopped anyway, so nobody can keep us reading forever.
  const drainLimit = max + Math.max(4 * max, 8 * 1024 * 1024)
  return Stream.runForEach(request.stream, (chunk) => {
    size += chunk.length
    if (size > drainLimit) return Effect.fail(new TooLarge())
    if (size <= max) chunks.push(chunk)
    return Effect.void
  }).pipe(
    Effect.mapError((e) => e instanceof TooLarge ? e : "ReadFailed" as const),
    Effect.flatMap(() =>
      size > max
        ? Effect.fail(new TooLarge())
        : Effect.succeed(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    )
  )
}

const decoder = new TextDecoder("utf-8", { fatal: true })

const isForm = (headers: Webhook.HeadersInput): boolean => {
  const type = headers["content-type"]
  return typeof type === "string" && type.toLowerCase().startsWith("application/x-www-form-urlencoded")
}

/** JSON, or a form (Twilio, Slack slash commands) as an object of its fields; a repeated field keeps its last value. */
const parseBody = (
  scheme: string,
  headers: Webhook.HeadersInput,
  body: Uint8Array
): Either.Either<unknown, Webhook.WebhookError> => {
  try {
    const text = decoder.decode(body)
    return Either.right(isForm(headers) ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text) as unknown)
  } catch {
    return Either.left(
      new Webhook.WebhookError({ scheme, reason: "DecodeError", detail: "the body is not UTF-8 JSON or a form" })
    )
  }
}

/**
 * Handles one request whose body was already read: verify, decode, guard
 * against replays, dispatch. Returns the status and body to answer. Use it to receive
 * webhooks in a server that is not the platform's; {@link make} wraps it.
 *
 * @since 0.1.0
 * @category handling
 */
export const handle = <const Routes extends ReadonlyArray<Route<any, any>>, FE = never, FR = never>(
  options: Options<Routes, FE, FR>,
  request: Webhook.WebhookRequest
): Effect.Effect<Answer, never, ReplayGuard | RouteContext<Routes[number]> | FR> => {
  const { verifier } = options
  const scheme = verifier.scheme
  const program = Effect.gen(function*() {
    const verified = yield* verifier.verify(request)
    const json = yield* parseBody(scheme, request.headers, request.body)
    const challenge = options.challenge?.(json)
    if (challenge !== undefined) return { run: Effect.void, release: Effect.void, body: challenge }
    const type = (options.eventType ?? ((j) => field(j, "type")))(json, request.headers)
    const route = type === undefined ? undefined : options.routes.find((r) => r.type === type)
    let event: unknown = json
    if (route !== undefined) {
      event = yield* Either.mapLeft(route.decode(json), (e) =>
        new Webhook.WebhookError({
          scheme,
          reason: "DecodeError",
          detail: `the ${type} event does not match its Schema: ${ParseResult.TreeFormatter.formatErrorSync(e)}`
        }))
    }
    const delivery: Delivery<unknown> = { event, type, verified, headers: request.headers, body: request.body }
    const run = route !== undefined
      ? route.handle(event, delivery)
      : options.fallback !== undefined
      ? options.fallback(delivery)
      : Effect.void
    const id = (options.deliveryId ?? defaultDeliveryId)(verified, json)
    if (id === undefined) return { run, release: Effect.void, body: undefined }
    const guard = yield* ReplayGuard
    const key = `${scheme}:${id}`
    if (yield* guard.claim(key, Duration.seconds(verifier.replayWindow))) {
      return yield* Effect.fail(new Webhook.WebhookError({ scheme, reason: "Replayed" }))
    }
    return { run, release: guard.release(key), body: undefined }
  })
  return program.pipe(
    Effect.matchCauseEffect({
      onFailure: (cause) => {
        const error = Cause.failureOption(cause)
        if (error._tag === "None") return Effect.as(Effect.logError("webhook receiver failed", cause), answer(500))
        const e = error.value
        const log = e.reason === "Replayed" ? Effect.logDebug : Effect.logWarning
        return Effect.as(
          log("webhook refused").pipe(
            Effect.annotateLogs({ scheme, reason: e.reason, header: e.header ?? "", detail: e.detail ?? "" })
          ),
          answer(statusOf(e.reason))
        )
      },
      onSuccess: ({ body, release, run }) =>
        run.pipe(
          Effect.as(answer(200, body)),
          // The handler failed: forget the id so the provider's redelivery is processed.
          Effect.catchAllCause((cause) =>
            Effect.zipRight(release, Effect.as(Effect.logError("webhook handler failed", cause), answer(500)))
          )
        )
    }),
    Effect.withSpan("apikit.webhook.receive", { attributes: { scheme } })
  ) as Effect.Effect<Answer, never, ReplayGuard | RouteContext<Routes[number]> | FR>
}

const defaultUrl = (request: HttpServerRequest.HttpServerRequest): string =>
  `http://${request.headers["host"] ?? "localhost"}${request.url}`

/**
 * The receiver as a platform HTTP handler: mount it with `HttpRouter.post`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Routes extends ReadonlyArray<Route<any, any>>, FE = never, FR = never>(
  options: Options<Routes, FE, FR>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  HttpServerRequest.HttpServerRequest | ReplayGuard | RouteContext<Routes[number]> | FR
> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const max = options.maxBodyBytes ?? 1024 * 1024
    const body = yield* Effect.either(readBody(request, max))
    if (Either.isLeft(body)) {
      const tooLarge = body.left instanceof TooLarge
      yield* Effect.logWarning("webhook refused").pipe(
        Effect.annotateLogs({ scheme: options.verifier.scheme, reason: tooLarge ? "BodyTooLarge" : "ReadFailed" })
      )
      return reply(answer(tooLarge ? 413 : 400))
    }
    const headers: Headers.Headers = request.headers
    const result = yield* handle(options, {
      headers,
      body: body.right,
      url: (options.url ?? defaultUrl)(request)
    })
    return reply(result)
  })
