/**
 * A counting wrapper around the transport: the demo learns what went over the
 * wire (attempts, retries, 429s, faults met) without hooks in the policy
 * packages. Retries are recognised by their idempotency key: the ApiClient
 * reuses one key on every attempt of a call.
 *
 * @internal
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"

/** @internal */
export interface Counters {
  attempts: number
  retries: number
  tokenRequests: number
  rateLimited: number
  serverErrors: number
  transportErrors: number
  timedOut: number
}

/** @internal */
export const makeCounters = (): Counters => ({
  attempts: 0,
  retries: 0,
  tokenRequests: 0,
  rateLimited: 0,
  serverErrors: 0,
  transportErrors: 0,
  timedOut: 0
})

/**
 * Wraps the `HttpClient` in context: every request to `/v1/projects` is one
 * attempt; token requests are counted apart.
 *
 * @internal
 */
export const layer = (counters: Counters): Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient> =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => {
      const seen = new Set<string>()
      return HttpClient.transform(client, (effect, request) => {
        if (request.url.endsWith("/oauth/token")) {
          counters.tokenRequests++
          return effect
        }
        if (!(request.method === "POST" && request.url.endsWith("/v1/projects"))) return effect
        counters.attempts++
        const key = request.headers["idempotency-key"]
        if (key !== undefined) {
          if (seen.has(key)) counters.retries++
          else seen.add(key)
        }
        return Effect.onExit(effect, (exit) =>
          Effect.sync(() => {
            if (Exit.isSuccess(exit)) {
              const status = exit.value.status
              if (status === 429) counters.rateLimited++
              else if (status >= 500) counters.serverErrors++
            } else if (Exit.isInterrupted(exit)) {
              // The attempt timeout interrupts the transport: a hang, seen from the client.
              counters.timedOut++
            } else {
              counters.transportErrors++
            }
          }))
      })
    })
  )
