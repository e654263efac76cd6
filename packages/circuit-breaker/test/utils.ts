import { CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiError } from "@apikit/http"
import { Duration, Effect, Layer } from "effect"

const where = { method: "GET", url: "https://api.example.com/v1/things" }

export const serverError = new ApiError.ServerError({ ...where, status: 503 })
export const timeout = new ApiError.Timeout({ ...where, reason: "Attempt", after: Duration.seconds(5) })
export const transport = new ApiError.Transport({ ...where, reason: "ConnectionReset", detail: "ECONNRESET" })
export const notFound = new ApiError.NotFound({ ...where, status: 404 })
export const badRequest = new ApiError.BadRequest({ ...where, status: 400, fieldErrors: [] })
export const rateLimited = (reason: ApiError.RateLimited["reason"], retryAfter = Duration.seconds(120)) =>
  new ApiError.RateLimited({ ...where, reason, retryAfter })

export const ok = Effect.succeed("ok")
export const fail = (e: unknown) => Effect.fail(e)

/** Provides a fresh memory store. */
export const withStore = Effect.provide(CircuitBreakerStore.layerMemory)

/**
 * The memory store without its synchronous fast path: answers only through
 * effects, as a remote (Redis) store does.
 */
export const layerEffectOnly = Layer.sync(CircuitBreakerStore.CircuitBreakerStore, () => {
  const { acquire, isolate, record, reset, snapshot } = CircuitBreakerStore.makeMemory()
  return { acquire, record, isolate, reset, snapshot }
})

/** Both kinds of store, to run the same scenarios over each. */
export const stores: ReadonlyArray<readonly [string, Layer.Layer<CircuitBreakerStore.CircuitBreakerStore>]> = [
  ["memory store", CircuitBreakerStore.layerMemory],
  ["effect-only store", layerEffectOnly]
]
