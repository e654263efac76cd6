/**
 * One HTTP exchange outside the ApiClient pipeline, read the way every
 * ApiClient attempt is read: the same transport choice, the same bounded body
 * reader (content-encoding undone within the limit) and the same timer. For
 * policies that make requests of their own, such as an auth policy asking a
 * token endpoint (`@apikit/auth` uses it for exactly that).
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ApiError from "./ApiError.js"
import * as attempt from "./internal/attempt.js"
import { Defect } from "./internal/body.js"
import * as classify from "./internal/classify.js"
import * as Redaction from "./Redaction.js"

/**
 * A response read into memory, any status.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response {
  readonly status: number
  readonly headers: Headers.Headers
  /** The body (decoded), up to `maxBytes`. */
  readonly body: Uint8Array
  /** The body went past `maxBytes`; `body` holds what was read up to the limit. */
  readonly truncated: boolean
}

/**
 * Options of {@link send}.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** How much of the body is read (the limit applies to the decoded size). */
  readonly maxBytes: number
  /** How long the whole exchange may take, body included. */
  readonly timeout: Duration.DurationInput
}

/**
 * Sends `request` with the platform `HttpClient` from context and reads the
 * response, whatever its status. Fails with `Timeout{reason: "Attempt"}` when
 * the timeout passes first, or `Transport` when no complete response arrived
 * (`detail` says whether a response had started). `url` in errors is masked.
 *
 * @since 0.1.0
 * @category requests
 */
export const send = (
  request: HttpClientRequest.HttpClientRequest,
  options: Options
): Effect.Effect<Response, ApiError.Timeout | ApiError.Transport, HttpClient.HttpClient> => {
  const after = Duration.decode(options.timeout)
  const url = () => URL.canParse(request.url) ? Redaction.url(new URL(request.url)) : "<unparsable URL>"
  return Effect.flatMap(
    Effect.catchAll(
      Effect.flatMap(HttpClient.HttpClient, (platform) => attempt.request(platform, request, options.maxBytes, after)),
      () => Effect.fail(new ApiError.Timeout({ method: request.method, url: url(), reason: "Attempt", after }))
    ),
    (reader): Effect.Effect<Response, ApiError.Transport> => {
      if (!reader.failed) return Effect.succeed(reader)
      if (reader.cause instanceof Defect) return Effect.die(reader.cause.defect)
      const error = classify.fromTransport(request.method, url(), { cause: reader.cause })
      return Effect.fail(
        reader.status === 0 ? error : new ApiError.Transport({
          ...error,
          detail: `the response (status ${reader.status}) broke off: ${error.detail}`
        })
      )
    }
  )
}
