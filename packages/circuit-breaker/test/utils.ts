import { CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiError } from "@apikit/http"
import { Duration, Effect } from "effect"

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
