/**
 * The typed failures of an API call. Every class is a `Schema.TaggedError`, so
 * `Effect.catchTags` over {@link ApiError} is exhaustive and errors serialize.
 *
 * Each error carries what helps debugging (method, URL with secrets masked,
 * status, the provider's request id, a bounded and masked body excerpt) and
 * never a secret: the fields are filled by the client from already-redacted
 * values, and `message` is built from those fields only.
 *
 * @since 0.1.0
 */
import type * as Headers from "@effect/platform/Headers"
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * What a server told us about its rate limit, parsed from `RateLimit` /
 * `RateLimit-Policy` (IETF drafts) and `X-RateLimit-*` headers.
 *
 * @since 0.1.0
 * @category models
 */
export class RateLimitInfo extends Schema.Class<RateLimitInfo>("@apikit/http/RateLimitInfo")({
  /** Requests allowed per window. */
  limit: Schema.optional(Schema.Number),
  /** Requests left in the current window. */
  remaining: Schema.optional(Schema.Number),
  /** Time until the window resets, relative to when the response arrived. */
  reset: Schema.optional(Schema.DurationFromSelf),
  /** The window length, when the server declares a policy. */
  window: Schema.optional(Schema.DurationFromSelf),
  /** The policy name of structured `RateLimit` headers. */
  policy: Schema.optional(Schema.String)
}) {}

const request = {
  method: Schema.String,
  /** The request URL with secret query parameters masked. */
  url: Schema.String
}

const response = {
  ...request,
  status: Schema.Number,
  /** The provider's request id (x-request-id, request-id, x-github-request-id, ...), for support tickets. */
  requestId: Schema.optional(Schema.String),
  /** At most 2 KB of the response body, with secrets masked. */
  body: Schema.optional(Schema.String)
}

const where = (e: { readonly method: string; readonly url: string }) => `${e.method} ${e.url}`

/**
 * `Duration.format` for a message. It throws on an infinite Duration and on one too long to count
 * in nanoseconds (a server can send such a wait), which a message must not.
 */
const shown = (d: Duration.Duration): string =>
  Duration.toMillis(d) <= Number.MAX_SAFE_INTEGER ? Duration.format(d) : "an unbounded time"
const rid = (e: { readonly requestId?: string | undefined }) =>
  e.requestId === undefined ? "" : ` (request id ${e.requestId})`
/** "returned 403 Forbidden", or for an error reported in a 200 body (GraphQL) "reported Forbidden in a 200 response". */
const answered = (e: { readonly status: number }, status: number, name: string) =>
  e.status === status ? `returned ${status} ${name}` : `reported ${name} in a ${e.status} response`
const excerpt = (e: { readonly body?: string | undefined }) =>
  e.body === undefined || e.body.length === 0 ? "" : `: ${e.body.length > 300 ? e.body.slice(0, 300) + "…" : e.body}`

/**
 * A field-level validation error from a 400/422 body.
 *
 * @since 0.1.0
 * @category models
 */
export class FieldError extends Schema.Class<FieldError>("@apikit/http/FieldError")({
  field: Schema.String,
  message: Schema.String
}) {}

/**
 * 400, or 422 with field errors when the body is JSON: the request is wrong and
 * will be wrong again; fix it rather than retry.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  ...response,
  fieldErrors: Schema.Array(FieldError)
}) {
  override get message() {
    const fields = this.fieldErrors.length === 0
      ? ""
      : ` Fields: ${this.fieldErrors.map((f) => `${f.field}: ${f.message}`).join("; ")}.`
    return `${where(this)} was rejected with ${this.status}${
      rid(this)
    }: the request is invalid; fix it before retrying.${fields}${fields === "" ? excerpt(this) : ""}`
  }
}

/**
 * 401: the credentials are missing, wrong or expired. `wwwAuthenticate` keeps
 * the challenge the server sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", {
  ...response,
  wwwAuthenticate: Schema.optional(Schema.String)
}) {
  override get message() {
    const challenge = this.wwwAuthenticate === undefined ? "" : ` Challenge: ${this.wwwAuthenticate}.`
    return `${where(this)} ${answered(this, 401, "Unauthorized")}${
      rid(this)
    }: check the configured credentials.${challenge}`
  }
}

/**
 * 403: authenticated, but not allowed.
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", response) {
  override get message() {
    return `${where(this)} ${answered(this, 403, "Forbidden")}${
      rid(this)
    }: the credentials lack permission (scope, role or plan) for this resource${excerpt(this)}`
  }
}

/**
 * 404: the resource (or route) does not exist.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", response) {
  override get message() {
    return `${where(this)} ${answered(this, 404, "Not Found")}${rid(this)}: check the id and the path${excerpt(this)}`
  }
}

/**
 * 409: the request conflicts with the resource's state (a duplicate, a stale version).
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", response) {
  override get message() {
    return `${where(this)} returned 409 Conflict${rid(this)}: the resource changed or already exists${excerpt(this)}`
  }
}

/**
 * Too many requests. `reason` tells who said so:
 * - `TooManyRequests`: the server answered 429;
 * - `ServiceUnavailable`: the server answered 503 with a Retry-After;
 * - `ClientLimit`: apikit's own limiter refused to send (nothing reached the server);
 * - `BulkheadFull`: too many calls already in flight or queued for this key.
 *
 * `retryAfter` is when trying again makes sense, when known.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...request,
  reason: Schema.Literal("TooManyRequests", "ServiceUnavailable", "ClientLimit", "BulkheadFull"),
  status: Schema.optional(Schema.Number),
  requestId: Schema.optional(Schema.String),
  body: Schema.optional(Schema.String),
  retryAfter: Schema.optional(Schema.DurationFromSelf),
  rateLimit: Schema.optional(RateLimitInfo),
  /** The limiter or bulkhead key, for client-side rejections. */
  key: Schema.optional(Schema.String)
}) {
  override get message() {
    const after = this.retryAfter === undefined ? "" : ` Retry after ${shown(this.retryAfter)}.`
    switch (this.reason) {
      case "ClientLimit":
        return `${where(this)} was not sent: the client-side rate limit for "${this.key}" is exhausted.${after}`
      case "BulkheadFull":
        return `${
          where(this)
        } was not sent: too many calls are in flight or queued for "${this.key}"; lower the concurrency or raise the bulkhead limits.`
      default:
        return `${where(this)} was rate limited by the server (${this.status})${rid(this)}; slow down.${after}`
    }
  }
}

/**
 * 5xx: the server failed. Usually transient, so the default retry policy retries it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", response) {
  override get message() {
    return `${where(this)} failed on the server with ${this.status}${rid(this)}; it is usually transient${
      excerpt(this)
    }`
  }
}

/**
 * Any other non-2xx status (1xx, 3xx, other 4xx). A redirect that was not
 * followed (see `ApiClient.RedirectOptions`) carries its `location`.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedStatus extends Schema.TaggedError<UnexpectedStatus>()("UnexpectedStatus", {
  ...response,
  /** A redirect's `Location`, resolved against the request URL (secrets masked), when it was not followed. */
  location: Schema.optional(Schema.String),
  /** Why a redirect was not followed. */
  redirect: Schema.optional(Schema.String)
}) {
  override get message() {
    return this.location === undefined
      ? `${where(this)} returned unexpected status ${this.status}${rid(this)}${excerpt(this)}`
      : `${where(this)} redirected (${this.status}) to ${this.location}, not followed${
        this.redirect === undefined ? "" : `: ${this.redirect}`
      }${rid(this)}`
  }
}

/**
 * The call took too long: `Attempt` when one attempt passed its timeout,
 * `Deadline` when the whole call (all attempts and waits) passed its budget.
 *
 * @since 0.1.0
 * @category errors
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  ...request,
  reason: Schema.Literal("Attempt", "Deadline"),
  after: Schema.DurationFromSelf
}) {
  override get message() {
    return this.reason === "Attempt"
      ? `${where(this)} got no complete response within the attempt timeout of ${shown(this.after)}`
      : `${where(this)} did not finish within its total deadline of ${shown(this.after)} (all attempts and waits)`
  }
}

/**
 * The request never got a response: connection refused or reset, DNS failure,
 * TLS failure, a proxy that would not connect (`Proxy`, e.g. 407 for wrong
 * proxy credentials), or the body stream broke.
 *
 * @since 0.1.0
 * @category errors
 */
export class Transport extends Schema.TaggedError<Transport>()("Transport", {
  ...request,
  reason: Schema.Literal("ConnectionRefused", "ConnectionReset", "DnsLookup", "Tls", "Proxy", "Other"),
  /** The underlying error's code and message, with secrets masked. */
  detail: Schema.String
}) {
  override get message() {
    return `${where(this)} failed in transport (${this.reason}): ${this.detail}`
  }
}

/**
 * The response arrived but its body is not what the success Schema expects:
 * `InvalidJson` when it does not parse, `SchemaMismatch` when it parses but does
 * not match, `InvalidEncoding` when its `content-encoding` could not be undone
 * (corrupt compressed data, or a coding apikit does not decode). `detail` says where and why (with secret-looking values masked).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  ...response,
  reason: Schema.Literal("InvalidJson", "SchemaMismatch", "InvalidEncoding"),
  detail: Schema.String
}) {
  override get message() {
    switch (this.reason) {
      case "InvalidJson":
        return `${where(this)} returned ${this.status} with a body that is not valid JSON${rid(this)}: ${this.detail}`
      case "InvalidEncoding":
        return `${where(this)} returned ${this.status} with a body that could not be decoded${
          rid(this)
        }: ${this.detail}`
      default:
        return `${where(this)} returned ${this.status} with a body that does not match the expected schema${
          rid(this)
        }:\n${this.detail}`
    }
  }
}

/**
 * The response body is larger than the client's `maxResponseBytes`; it was not
 * read further.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseTooLarge extends Schema.TaggedError<ResponseTooLarge>()("ResponseTooLarge", {
  ...request,
  status: Schema.Number,
  requestId: Schema.optional(Schema.String),
  limit: Schema.Number
}) {
  override get message() {
    return `${where(this)} returned ${this.status} with a body over the limit of ${this.limit} bytes${
      rid(this)
    }; raise maxResponseBytes if that size is expected`
  }
}

/**
 * The call could not be built: bad base URL, bad path, missing path parameter,
 * an absolute URL to another origin, or path parameters, query, headers or a
 * body that their Schema rejects. Nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  method: Schema.String,
  url: Schema.String,
  reason: Schema.Literal(
    "InvalidBaseUrl",
    "InvalidPath",
    "MissingPathParam",
    "CrossOrigin",
    "InvalidQuery",
    "InvalidHeaders",
    "InvalidBody"
  ),
  detail: Schema.String
}) {
  override get message() {
    return `${this.method} ${this.url} was not sent (${this.reason}): ${this.detail}`
  }
}

/**
 * The circuit breaker for `key` is open (or half-open with all probes taken):
 * the call failed fast without reaching the server. `retryAfter` is the time
 * until the breaker admits a probe.
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  ...request,
  key: Schema.String,
  retryAfter: Schema.DurationFromSelf
}) {
  override get message() {
    return `${where(this)} was not sent: the circuit "${this.key}" is open after repeated failures; next probe in ${
      shown(this.retryAfter)
    }`
  }
}

/**
 * An auth policy could not produce credentials: the token endpoint refused
 * (`error` holds the OAuth error code such as `invalid_client`), answered
 * something that is not a token response, could not be reached, the token
 * store failed, or the policy is misconfigured. `transient` is true when trying again later may succeed
 * (token endpoint 5xx, 429, transport failures), so retry policies can retry it.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthError extends Schema.TaggedError<AuthError>()("AuthError", {
  reason: Schema.Literal(
    "TokenEndpointRejected",
    "TokenEndpointUnavailable",
    "InvalidTokenResponse",
    "InvalidCallback",
    "SigningFailed",
    "Misconfigured",
    "TokenStoreUnavailable"
  ),
  /** The credential or connection key (never the credential itself). */
  key: Schema.String,
  /** The OAuth `error` code, when the server sent one. */
  error: Schema.optional(Schema.String),
  /** The OAuth `error_description` (masked), when the server sent one. */
  description: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number),
  transient: Schema.Boolean,
  /** The token endpoint's Retry-After on a 429/503: retry policies wait at least this long. */
  retryAfter: Schema.optional(Schema.DurationFromSelf)
}) {
  override get message() {
    const code = this.error === undefined ? "" : ` ${this.error}`
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    const desc = this.description === undefined ? "" : `: ${this.description}`
    const hint = this.transient
      ? this.retryAfter === undefined
        ? " It may succeed if retried."
        : ` It may succeed if retried after ${shown(this.retryAfter)}.`
      : this.reason === "TokenEndpointRejected"
      ? " Check the client id, secret, scopes and grant."
      : ""
    return `Auth for "${this.key}" failed (${this.reason}${code})${status}${desc}.${hint}`
  }
}

/**
 * The stored grant for a connection is no longer valid (the refresh token was
 * revoked or expired: `invalid_grant`). Ask the user to reconnect.
 *
 * @since 0.1.0
 * @category errors
 */
export class ReauthorizationRequired extends Schema.TaggedError<ReauthorizationRequired>()(
  "ReauthorizationRequired",
  {
    key: Schema.String,
    description: Schema.optional(Schema.String)
  }
) {
  override get message() {
    return `The authorization for "${this.key}" is no longer valid${
      this.description === undefined ? "" : ` (${this.description})`
    }; the user must reconnect the account.`
  }
}

/**
 * The classes of {@link ApiError}, in one list: the union type, its Schema and
 * the set of tags {@link isApiError} checks are all derived from it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const classes = [
  BadRequest,
  Unauthorized,
  Forbidden,
  NotFound,
  Conflict,
  RateLimited,
  ServerError,
  UnexpectedStatus,
  Timeout,
  Transport,
  DecodeError,
  ResponseTooLarge,
  InvalidRequest,
  CircuitOpen,
  AuthError,
  ReauthorizationRequired
] as const

/**
 * Every failure an ApiClient call can produce.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError = InstanceType<typeof classes[number]>

/**
 * The Schema of {@link ApiError}, to decode errors that crossed a process boundary.
 *
 * @since 0.1.0
 * @category errors
 */
export const ApiError: Schema.Union<typeof classes> = Schema.Union(...classes)

const tags: ReadonlySet<string> = new Set(classes.map((c) => c._tag))

/**
 * Whether a value is one of the {@link ApiError} classes.
 *
 * @since 0.1.0
 * @category guards
 */
export const isApiError = (u: unknown): u is ApiError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * The HTTP status of an error, when it came from a response.
 *
 * @since 0.1.0
 * @category accessors
 */
export const statusOf = (error: ApiError): number | undefined =>
  "status" in error && typeof error.status === "number" ? error.status : undefined

/**
 * The server's (or breaker's, or token endpoint's) hint of when to try again, when the error has one.
 *
 * @since 0.1.0
 * @category accessors
 */
export const retryAfterOf = (error: ApiError): Duration.Duration | undefined =>
  error._tag === "RateLimited" || error._tag === "CircuitOpen" || error._tag === "AuthError"
    ? error.retryAfter
    : undefined

/**
 * Where a status error keeps the headers of its response (a non-enumerable symbol property).
 *
 * @since 0.1.0
 * @category symbols
 */
export const responseHeadersKey: unique symbol = Symbol.for("@apikit/http/ApiError/responseHeaders")

/**
 * The headers of the response a status error was made from (a 429's, a 503's, ...), for
 * provider-specific parsers such as a rate limiter's custom `headers` parser. They are not one of
 * the error's fields: never serialized, printed or logged. `undefined` for errors without a
 * response (transport failures, client-side refusals).
 *
 * @since 0.1.0
 * @category accessors
 */
export const responseHeaders = (error: ApiError): Headers.Headers | undefined =>
  (error as { readonly [responseHeadersKey]?: Headers.Headers })[responseHeadersKey]
