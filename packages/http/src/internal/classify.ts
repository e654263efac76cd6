/**
 * Turning what came back (a status with headers and a body, or a transport
 * failure) into the right ApiError. Pure functions: the caller supplies the
 * clock reading.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as ApiError from "../ApiError.js"
import * as RateLimitHeaders from "../RateLimitHeaders.js"
import * as Redaction from "../Redaction.js"
import * as RetryAfter from "../RetryAfter.js"

const requestIdHeaders = [
  "x-request-id",
  "request-id",
  "x-github-request-id",
  "x-amzn-requestid",
  "x-amz-request-id",
  "x-correlation-id",
  "x-trace-id",
  "cf-ray"
]

/** @internal */
export const requestId = (headers: Headers.Headers): string | undefined => {
  for (const name of requestIdHeaders) {
    const value = headers[name]
    if (value !== undefined && value.length > 0) return value.length > 200 ? value.slice(0, 200) : value
  }
  return undefined
}

const maxFieldErrors = 50

const str = (u: unknown): string | undefined =>
  typeof u === "string" ? u : typeof u === "number" ? String(u) : undefined

const fieldOf = (o: Record<string, unknown>): string | undefined => {
  const loc = o["loc"]
  if (Array.isArray(loc)) return loc.map(String).join(".")
  return str(o["field"]) ?? str(o["path"]) ?? str(o["param"]) ?? str(o["name"]) ?? str(o["pointer"])
}

const messageOf = (o: Record<string, unknown>): string | undefined =>
  str(o["message"]) ?? str(o["msg"]) ?? str(o["reason"]) ?? str(o["detail"]) ?? str(o["description"]) ??
    str(o["code"])

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const fromList = (list: ReadonlyArray<unknown>): Array<ApiError.FieldError> => {
  const out: Array<ApiError.FieldError> = []
  for (const item of list) {
    if (out.length >= maxFieldErrors) break
    if (!isRecord(item)) continue
    const field = fieldOf(item)
    const message = messageOf(item)
    if (field !== undefined && message !== undefined) {
      out.push(new ApiError.FieldError({ field, message: Redaction.excerpt(message, 300) }))
    }
  }
  return out
}

/**
 * Field errors in the shapes APIs commonly use: `{errors: [{field, message}]}`,
 * `{errors: {field: ["message"]}}` (Rails), `{detail: [{loc, msg}]}` (FastAPI),
 * RFC 9457 `invalid-params`, and Google's `error.details[].fieldViolations`.
 *
 * @internal
 */
export const fieldErrors = (json: unknown): ReadonlyArray<ApiError.FieldError> => {
  if (!isRecord(json)) return []
  const errors = json["errors"]
  if (Array.isArray(errors)) return fromList(errors)
  if (isRecord(errors)) {
    const out: Array<ApiError.FieldError> = []
    for (const [field, value] of Object.entries(errors)) {
      for (const message of Array.isArray(value) ? value : [value]) {
        const text = str(message)
        if (text !== undefined && out.length < maxFieldErrors) {
          out.push(new ApiError.FieldError({ field, message: Redaction.excerpt(text, 300) }))
        }
      }
    }
    return out
  }
  if (Array.isArray(json["detail"])) return fromList(json["detail"])
  if (Array.isArray(json["invalid-params"])) return fromList(json["invalid-params"])
  const error = json["error"]
  if (isRecord(error) && Array.isArray(error["details"])) {
    return error["details"].flatMap((d) =>
      isRecord(d) && Array.isArray(d["fieldViolations"]) ? fromList(d["fieldViolations"]) : []
    ).slice(0, maxFieldErrors)
  }
  return []
}

const parseJson = (body: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(body))
  } catch {
    return undefined
  }
}

/** The fields every response error carries. @internal */
export interface ResponseInfo {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: Uint8Array
}

const common = (info: ResponseInfo) => {
  const id = requestId(info.headers)
  const body = info.body.length === 0 ? undefined : Redaction.excerpt(info.body)
  return {
    method: info.method,
    url: info.url,
    status: info.status,
    ...(id === undefined ? {} : { requestId: id }),
    ...(body === undefined ? {} : { body })
  }
}

/**
 * The raw body of a response error, kept out of sight (a non-enumerable symbol
 * property: never serialized, printed or logged) so endpoint clients can decode
 * declared error bodies in full. Only the masked excerpt is public.
 *
 * @internal
 */
export const rawBody: unique symbol = Symbol.for("@apikit/http/rawBody")

/** @internal */
export const rawBodyOf = (error: ApiError.ApiError): Uint8Array | undefined =>
  (error as { [rawBody]?: Uint8Array })[rawBody]

/**
 * The ApiError for a non-2xx response.
 *
 * @internal
 */
export const fromStatus = (info: ResponseInfo, nowMillis: number): ApiError.ApiError => {
  const error = classifyStatus(info, nowMillis)
  Object.defineProperty(error, rawBody, { value: info.body, enumerable: false })
  Object.defineProperty(error, ApiError.responseHeadersKey, { value: info.headers, enumerable: false })
  return error
}

const classifyStatus = (info: ResponseInfo, nowMillis: number): ApiError.ApiError => {
  const { status } = info
  switch (status) {
    case 400:
    case 422: {
      const json = info.body.length > 0 && info.body.length <= 1_000_000 ? parseJson(info.body) : undefined
      return new ApiError.BadRequest({ ...common(info), fieldErrors: fieldErrors(json) })
    }
    case 401: {
      const challenge = info.headers["www-authenticate"]
      return new ApiError.Unauthorized({
        ...common(info),
        ...(challenge === undefined ? {} : { wwwAuthenticate: Redaction.text(challenge).slice(0, 500) })
      })
    }
    case 403: {
      // GitHub (and others) answer rate limits with 403: the primary limit with
      // `X-RateLimit-Remaining: 0`, the secondary one with a Retry-After.
      const retryAfter = RetryAfter.parse(info.headers["retry-after"], nowMillis)
      const rateLimit = RateLimitHeaders.parse(info.headers, nowMillis)
      if (retryAfter === undefined && rateLimit?.remaining !== 0) return new ApiError.Forbidden(common(info))
      const hint = retryAfter ?? rateLimit?.reset
      return new ApiError.RateLimited({
        ...common(info),
        reason: "TooManyRequests",
        ...(hint === undefined ? {} : { retryAfter: hint }),
        ...(rateLimit === undefined ? {} : { rateLimit })
      })
    }
    case 404:
      return new ApiError.NotFound(common(info))
    case 409:
      return new ApiError.Conflict(common(info))
    case 429:
    case 503: {
      const retryAfter = RetryAfter.parse(info.headers["retry-after"], nowMillis)
      if (status === 503 && retryAfter === undefined) return new ApiError.ServerError(common(info))
      const rateLimit = RateLimitHeaders.parse(info.headers, nowMillis)
      const hint = retryAfter ?? rateLimit?.reset
      return new ApiError.RateLimited({
        ...common(info),
        reason: status === 429 ? "TooManyRequests" : "ServiceUnavailable",
        ...(hint === undefined ? {} : { retryAfter: hint }),
        ...(rateLimit === undefined ? {} : { rateLimit })
      })
    }
    default:
      return status >= 500 && status <= 599
        ? new ApiError.ServerError(common(info))
        : new ApiError.UnexpectedStatus(common(info))
  }
}

const codes: Record<string, ApiError.Transport["reason"]> = {
  ECONNREFUSED: "ConnectionRefused",
  ECONNRESET: "ConnectionReset",
  EPIPE: "ConnectionReset",
  UND_ERR_SOCKET: "ConnectionReset",
  UND_ERR_CLOSED: "ConnectionReset",
  ECONNABORTED: "ConnectionReset",
  ENOTFOUND: "DnsLookup",
  EAI_AGAIN: "DnsLookup",
  EAI_FAIL: "DnsLookup",
  // UndiciHttpClient's own: a proxy URL that does not parse.
  ERR_APIKIT_INVALID_PROXY: "Proxy"
}

// Node's TLS codes (ERR_TLS_*, ERR_SSL_*) and OpenSSL's certificate verification codes
// (UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, HOSTNAME_MISMATCH, ...).
const tlsCode =
  /CERT|TLS|SSL|SELF_SIGNED|^UNABLE_TO_|HOSTNAME_MISMATCH|^INVALID_CA$|^INVALID_PURPOSE$|^PATH_LENGTH_EXCEEDED$|^CRL_|^ERR_OSSL_/

/** Walks `cause` chains (fetch wraps the socket error in a TypeError) for a Node error code. */
const codeOf = (error: unknown): { code?: string; message: string } => {
  let current: unknown = error
  let message = ""
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof e.message === "string" && e.message.length > 0) message = e.message
    if (typeof e.code === "string") return { code: e.code, message }
    current = e.cause
  }
  return { message: message.length > 0 ? message : String(error) }
}

/**
 * The Transport error for a failed exchange (no response, or a body that broke
 * off while being read).
 *
 * @internal
 */
export const fromTransport = (
  method: string,
  url: string,
  error: HttpClientError.HttpClientError | { readonly cause: unknown }
): ApiError.Transport => {
  const { code, message } = codeOf(error.cause ?? error)
  // undici's ProxyAgent when the proxy would not open a tunnel (its message names no URL or credential).
  const proxy = /Proxy response \((\d{3})\)/.exec(message)?.[1]
  if (proxy !== undefined) {
    const hint = proxy === "407"
      ? " (407 Proxy Authentication Required): check the user and password of the proxy URL"
      : ""
    return new ApiError.Transport({
      method,
      url,
      reason: "Proxy",
      detail: `the proxy answered ${proxy} instead of connecting to the API${hint}`
    })
  }
  const reason = code === undefined ? "Other" : codes[code] ?? (tlsCode.test(code) ? "Tls" : "Other")
  // The code is a code, not a key: `UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify ...` must not read
  // as `<...signature>: <value>` to the masker. Only the message is masked.
  const shownCode = code === undefined ? "" : `${code.slice(0, 80)}: `
  const detail = `${shownCode}${Redaction.text(message)}`.slice(0, 500)
  return new ApiError.Transport({ method, url, reason, detail })
}
