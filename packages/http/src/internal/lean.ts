/**
 * The attempt of an ApiClient over apikit's own `UndiciHttpClient`, as one
 * `Effect.async` around undici: request, bounded body read, classification and
 * the attempt timeout (a `setTimeout` that aborts the request) without a fiber
 * per attempt or the platform response wrapper.
 *
 * The generic path (any `HttpClient`: platform fetch/node/undici clients,
 * MockHttp) gives the same results: the same bounds on bodies, the same
 * `ApiError`s for the same statuses and socket errors, interruption aborts the
 * request. ApiClient takes this path only when the `HttpClient` in context is
 * an unwrapped `UndiciHttpClient` and the attempt timeout, if any, can run on
 * the live Clock (under TestClock the generic path keeps virtual time in charge).
 */
import * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Undici from "undici"
import * as ApiError from "../ApiError.js"
import type * as Policy from "../Policy.js"
import * as classify from "./classify.js"

/** Sends a request with undici; what `UndiciHttpClient` registers for its clients. */
export type Send = (
  request: HttpClientRequest.HttpClientRequest,
  signal: AbortSignal
) => Promise<Undici.Dispatcher.ResponseData>

const registry = new WeakMap<HttpClient.HttpClient, Send>()

/** @internal */
export const register = (client: HttpClient.HttpClient, send: Send): void => {
  registry.set(client, send)
}

/** The undici sender behind `client`, when it is an unwrapped `UndiciHttpClient`. */
export const senderOf = (client: HttpClient.HttpClient): Send | undefined => registry.get(client)

/** @internal */
export interface Bounded {
  readonly bytes: Uint8Array
  readonly truncated: boolean
}

/** @internal */
export const empty = new Uint8Array(0)

/** The first `size` bytes of `chunks`, joined. */
export const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!.subarray(0, size)
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    if (offset >= size) break
    const part = chunk.subarray(0, size - offset)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const noBody = (status: number, method: string) =>
  status === 204 || status === 205 || status === 304 || method === "HEAD"

type Body = Undici.Dispatcher.ResponseData["body"]

/** Reads at most `limit` bytes; a body declared or found larger is destroyed (the socket is not drained). */
const readBounded = async (status: number, method: string, header: unknown, body: Body, limit: number) => {
  if (noBody(status, method)) return { bytes: empty, truncated: false }
  if (typeof header === "string" && /^\d{1,15}$/.test(header)) {
    const n = Number(header)
    if (n === 0) return { bytes: empty, truncated: false }
    if (n <= limit) return { bytes: new Uint8Array(await body.arrayBuffer()), truncated: false }
    body.destroy()
    return { bytes: empty, truncated: true }
  }
  const chunks: Array<Uint8Array> = []
  let size = 0
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk)
    size += chunk.length
    if (size > limit) break
  }
  return { bytes: concat(chunks, Math.min(size, limit)), truncated: size > limit }
}

// Larger delays overflow setTimeout; the live Clock treats them as never firing too.
const maxTimerMillis = 2 ** 31 - 1

/** When an attempt gives up, and the error it fails with (an attempt Timeout, or the call's deadline). @internal */
export interface Timer {
  readonly millis: number
  readonly error: () => ApiError.ApiError
}

/**
 * One attempt: send, read the body (up to `maxBytes` for 2xx, `errorLimit`
 * otherwise), classify non-2xx statuses with the time of `clock`, give up when
 * `timer` fires. `onStatus` sees the status of every response that was read
 * (for the attempt span).
 *
 * @internal
 */
export const exchange = (
  send: Send,
  request: HttpClientRequest.HttpClientRequest,
  context: Policy.CallContext,
  clock: Clock.Clock,
  maxBytes: number,
  errorLimit: number,
  timer: Timer | undefined,
  onStatus: (status: number) => void
): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
  Effect.async<Policy.ApiResponse, ApiError.ApiError>((resume) => {
    const { method, url } = context
    const controller = new AbortController()
    let done = false
    let body: Body | undefined
    let handle: ReturnType<typeof setTimeout> | undefined
    const finish = (result: Effect.Effect<Policy.ApiResponse, ApiError.ApiError>) => {
      if (done) return
      done = true
      if (handle !== undefined) clearTimeout(handle)
      resume(result)
    }
    // Stop the exchange: abort a pending request, destroy a body being read.
    const abort = () => {
      done = true
      if (handle !== undefined) clearTimeout(handle)
      controller.abort()
      body?.destroy()
    }
    const broken = (cause: unknown) => finish(Effect.fail(classify.fromTransport(method, url, { cause })))
    if (timer !== undefined && timer.millis <= maxTimerMillis) {
      handle = setTimeout(() => {
        if (done) return
        abort()
        resume(Effect.fail(timer.error()))
      }, timer.millis)
    }
    send(request, controller.signal).then((response) => {
      const source = response.body
      body = source
      // A body that errors after nobody listens must not become an unhandled error.
      source.on("error", () => {})
      if (done) return void source.destroy()
      const status = response.statusCode
      const ok = status >= 200 && status < 300
      readBounded(status, method, response.headers["content-length"], source, ok ? maxBytes : errorLimit).then(
        ({ bytes, truncated }) => {
          if (done) return
          onStatus(status)
          const headers = Headers.fromInput(response.headers as Record<string, string | Array<string>>)
          if (ok && truncated) {
            const id = classify.requestId(headers)
            return finish(Effect.fail(
              new ApiError.ResponseTooLarge({
                method,
                url,
                status,
                limit: maxBytes,
                ...(id === undefined ? {} : { requestId: id })
              })
            ))
          }
          if (ok) return finish(Effect.succeed({ status, headers, body: bytes }))
          finish(Effect.fail(
            classify.fromStatus({ method, url, status, headers, body: bytes }, clock.unsafeCurrentTimeMillis())
          ))
        },
        broken
      )
    }, broken)
    return Effect.sync(abort)
  })
