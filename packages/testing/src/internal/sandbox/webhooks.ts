/**
 * Webhook endpoints and Standard Webhooks deliveries
 * (https://www.standardwebhooks.com): each event is signed per attempt and
 * retried with exponential backoff on the sandbox's Clock until a receiver
 * answers 2xx or the attempts run out.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Schedule from "effect/Schedule"
import { createHmac } from "node:crypto"
import * as State from "./state.js"

// The sandbox signs on its own: @apikit/testing cannot depend on @apikit/webhooks, whose
// tests use MockHttp from here. The demo and the webhook tests verify these deliveries
// with @apikit/webhooks, so the two implementations check each other.
/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the base64-decoded `whsec_` secret. @internal */
export const sign = (secret: string, id: string, timestamp: number, body: string): string =>
  "v1," +
  createHmac("sha256", Buffer.from(secret.replace(/^whsec_/, ""), "base64"))
    .update(`${id}.${timestamp}.${body}`)
    .digest("base64")

const loopbackHosts = new Set(["127.0.0.1", "localhost", "[::1]"])

const fieldError = (field: string, message: string) =>
  HttpServerResponse.unsafeJson({ errors: [{ field, message }] }, { status: 422 })

/** `POST /v1/webhook-endpoints {url, secret?}`. @internal */
export const register = (state: State.State) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Effect.orElseSucceed(request.json, () => undefined)
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      return HttpServerResponse.unsafeJson({ message: "Send a JSON object: {\"url\": ..., \"secret\"?: ...}" }, {
        status: 400
      })
    }
    const { secret, url } = body as { url?: unknown; secret?: unknown }
    if (typeof url !== "string") return fieldError("url", "is required")
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return fieldError("url", "must be an absolute http(s) URL")
    }
    // The sandbox only ever calls back into this machine: it must not become a way to reach other hosts.
    if ((parsed.protocol !== "http:" && parsed.protocol !== "https:") || !loopbackHosts.has(parsed.hostname)) {
      return fieldError("url", "must be an http(s) URL on 127.0.0.1 or localhost")
    }
    if (secret !== undefined) {
      const key = typeof secret === "string" && secret.startsWith("whsec_")
        ? Buffer.from(secret.slice(6), "base64")
        : undefined
      if (key === undefined || key.length < 24 || key.length > 64) {
        return fieldError("secret", "must be whsec_ followed by 24 to 64 base64-encoded bytes")
      }
    }
    const endpoint: State.Endpoint = {
      id: `we_${state.nextEndpoint++}`,
      url: parsed.toString(),
      secret: typeof secret === "string"
        ? secret
        : `whsec_${Buffer.from(yield* State.randomBytes(state, 24)).toString("base64")}`
    }
    state.endpoints.set(endpoint.id, endpoint)
    return HttpServerResponse.unsafeJson(endpoint, { status: 201 })
  })

/** `GET /v1/webhook-endpoints`: secrets are shown once, at registration. @internal */
export const list = (state: State.State) =>
  HttpServerResponse.unsafeJson({ data: [...state.endpoints.values()].map(({ id, url }) => ({ id, url })) })

/** `DELETE /v1/webhook-endpoints/:id`. @internal */
export const remove = (state: State.State, id: string) =>
  state.endpoints.delete(id)
    ? HttpServerResponse.empty({ status: 204 })
    : HttpServerResponse.unsafeJson({ message: `No webhook endpoint ${id}` }, { status: 404 })

/** Sends events to every registered endpoint, each delivery in its own fiber. @internal */
export interface Emitter {
  readonly emit: (type: string, data: unknown) => Effect.Effect<void>
}

/** @internal */
export const makeEmitter = (
  state: State.State,
  client: HttpClient.HttpClient,
  fibers: FiberSet.FiberSet
): Emitter => {
  const { maxAttempts, retryBaseMillis, timeoutMillis } = state.settings.webhooks
  const ok = HttpClient.filterStatusOk(client)
  const attempt = (endpoint: State.Endpoint, id: string, body: string) =>
    Effect.gen(function*() {
      const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      const request = HttpClientRequest.post(endpoint.url).pipe(
        HttpClientRequest.bodyText(body, "application/json"),
        HttpClientRequest.setHeaders({
          "webhook-id": id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": sign(endpoint.secret, id, timestamp, body)
        })
      )
      yield* ok.execute(request).pipe(Effect.scoped, Effect.timeout(Duration.millis(timeoutMillis)))
    }).pipe(Effect.tapError(() => Effect.sync(() => state.counters.failedAttempts++)))

  const deliver = (endpoint: State.Endpoint, id: string, body: string) =>
    attempt(endpoint, id, body).pipe(
      Effect.retry(
        Schedule.exponential(Duration.millis(retryBaseMillis)).pipe(
          Schedule.intersect(Schedule.recurs(maxAttempts - 1))
        )
      ),
      Effect.match({
        onFailure: () => state.counters.abandoned++,
        onSuccess: () => state.counters.delivered++
      })
    )

  return {
    emit: (type, data) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        for (const endpoint of state.endpoints.values()) {
          // One id per delivery, kept across retries, so receivers can deduplicate.
          const id = `msg_${state.nextMessage++}`
          const body = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data })
          yield* FiberSet.run(fibers, deliver(endpoint, id, body))
        }
      })
  }
}
