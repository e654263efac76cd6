import { AuthError } from "@apikit/http/ApiError"
import * as BoundedRequest from "@apikit/http/BoundedRequest"
import * as Redaction from "@apikit/http/Redaction"
import * as RetryAfter from "@apikit/http/RetryAfter"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import { StoredToken } from "../TokenStore.js"
import * as Jwt from "./signing.js"

/** How the client authenticates to the token endpoint (RFC 6749 §2.3, RFC 7523 §2.2). */
export type ClientAuth =
  | { readonly method: "client_secret_basic"; readonly clientId: string; readonly clientSecret: Redacted.Redacted }
  | { readonly method: "client_secret_post"; readonly clientId: string; readonly clientSecret: Redacted.Redacted }
  | {
    readonly method: "private_key_jwt"
    readonly clientId: string
    readonly signingKey: Jwt.SigningKey
    readonly audience: string
  }
  | { readonly method: "none"; readonly clientId: string }

export interface TokenRequest {
  readonly key: string
  readonly tokenUrl: string
  readonly clientAuth: ClientAuth | undefined
  /** The grant's parameters; values may be secrets (codes, refresh tokens), revealed only into the body. */
  readonly params: Readonly<Record<string, string | Redacted.Redacted<string> | ReadonlyArray<string> | undefined>>
  readonly timeout: Duration.Duration
  /** False for code exchanges: a replayed code makes servers revoke the grant, so it is never marked retryable. */
  readonly retryable: boolean
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded. */
export const formEncode = (value: string): string => new URLSearchParams([["", value]]).toString().slice(1)

export const basicCredentials = (clientId: string, clientSecret: Redacted.Redacted): string =>
  `Basic ${Encoding.encodeBase64(`${formEncode(clientId)}:${formEncode(Redacted.value(clientSecret))}`)}`

const utf8 = new TextDecoder()

/** Token responses are a few hundred bytes; a huge one is a broken or hostile endpoint. */
const maxBodyBytes = 256 * 1024

const str = (u: unknown): string | undefined => (typeof u === "string" && u.length > 0 ? u : undefined)

// expires_in is a number per RFC 6749, but strings ("3600") are common (Azure AD v1, some gateways).
const seconds = (u: unknown): number | undefined => {
  const n = typeof u === "number" ? u : typeof u === "string" && /^\s*\d+(\.\d+)?\s*$/.test(u) ? Number(u) : NaN
  return Number.isFinite(n) && n >= 0 ? n : undefined
}

const masked = (text: string | undefined, max = 300) => text === undefined ? undefined : Redaction.excerpt(text, max)

const fail = (request: TokenRequest, fields: Omit<ConstructorParameters<typeof AuthError>[0], "key">) =>
  Effect.fail(new AuthError({ key: request.key, ...fields }))

/** Parses a token response body into a StoredToken, or explains (without values) why it is not one. */
export const parse = (
  request: TokenRequest,
  status: number,
  body: string,
  obtainedAt: number,
  retryAfterHeader?: string | undefined
): Effect.Effect<StoredToken, AuthError> => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    json = undefined
  }
  const o = typeof json === "object" && json !== null && !Array.isArray(json) ? json as Record<string, unknown> : {}
  // The error code is the server's text too: bounded and masked like the description.
  const error = masked(str(o.error), 100)
  const description = masked(str(o.error_description))
  if (status < 200 || status >= 300 || error !== undefined) {
    // 5xx, 429 and odd 2xx-with-error bodies are the endpoint's trouble, not the client's.
    const unavailable = status >= 500 || status === 429
    // A rate-limited or overloaded endpoint says when to come back: retry policies honour it.
    const retryAfter = unavailable ? RetryAfter.parse(retryAfterHeader, obtainedAt) : undefined
    return fail(request, {
      reason: unavailable ? "TokenEndpointUnavailable" : "TokenEndpointRejected",
      status,
      ...(error === undefined ? {} : { error }),
      ...(description === undefined ?
        (error === undefined && body.length > 0 ? { description: masked(body, 200)! } : {}) :
        { description }),
      transient: unavailable && request.retryable,
      ...(retryAfter === undefined ? {} : { retryAfter })
    })
  }
  const invalid = (why: string) =>
    fail(request, { reason: "InvalidTokenResponse", status, description: why, transient: false })
  if (json === undefined) return invalid("the token endpoint answered with a body that is not JSON")
  const accessToken = str(o.access_token)
  if (accessToken === undefined) return invalid("the token response has no access_token")
  const tokenType = o.token_type === undefined ? "Bearer" : str(o.token_type)
  if (tokenType === undefined || tokenType.toLowerCase() !== "bearer") {
    return invalid(`the token_type is ${JSON.stringify(o.token_type)}; only Bearer tokens are supported`)
  }
  const expiresIn = seconds(o.expires_in)
  const refreshToken = str(o.refresh_token)
  const idToken = str(o.id_token)
  const scope = str(o.scope)
  return Effect.succeed(
    new StoredToken({
      accessToken: Redacted.make(accessToken),
      tokenType: "Bearer",
      obtainedAt,
      ...(expiresIn === undefined ? {} : { expiresAt: obtainedAt + Math.floor(expiresIn * 1000) }),
      ...(refreshToken === undefined ? {} : { refreshToken: Redacted.make(refreshToken) }),
      ...(idToken === undefined ? {} : { idToken: Redacted.make(idToken) }),
      ...(scope === undefined ? {} : { scope })
    })
  )
}

const clientAuthParams = (
  request: TokenRequest,
  auth: ClientAuth,
  now: number
): Effect.Effect<{ readonly header?: string; readonly params: Record<string, string> }, AuthError> => {
  switch (auth.method) {
    case "client_secret_basic":
      return Effect.succeed({ header: basicCredentials(auth.clientId, auth.clientSecret), params: {} })
    case "client_secret_post":
      return Effect.succeed({
        params: { client_id: auth.clientId, client_secret: Redacted.value(auth.clientSecret) }
      })
    case "none":
      return Effect.succeed({ params: { client_id: auth.clientId } })
    case "private_key_jwt":
      return Effect.gen(function*() {
        const iat = Math.floor(now / 1000)
        const assertion = yield* Jwt.sign(request.key, auth.signingKey, {
          iss: auth.clientId,
          sub: auth.clientId,
          aud: auth.audience,
          jti: yield* Jwt.jti,
          iat,
          exp: iat + 60
        })
        return {
          params: {
            client_id: auth.clientId,
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: Redacted.value(assertion)
          }
        }
      })
  }
}

/**
 * Sends a request to a token-issuing endpoint and reads at most
 * {@link maxBodyBytes} of the answer. Transport failures and timeouts are
 * `TokenEndpointUnavailable`, transient when the request may be retried.
 */
export const send = (
  request: { readonly key: string; readonly timeout: Duration.Duration; readonly retryable: boolean },
  outgoing: HttpClientRequest.HttpClientRequest
): Effect.Effect<
  { readonly status: number; readonly body: string; readonly retryAfter: string | undefined },
  AuthError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const unavailable = (description: string) =>
      new AuthError({ reason: "TokenEndpointUnavailable", key: request.key, description, transient: request.retryable })
    // ApiClient's attempt (its transport choice, bounded body reader and timer), outside its pipeline:
    // this request is what the auth slot of that pipeline waits for.
    const response = yield* Effect.catchTags(
      BoundedRequest.send(outgoing, { maxBytes: maxBodyBytes, timeout: request.timeout }),
      {
        Timeout: () => unavailable(`the token endpoint did not answer within ${Duration.format(request.timeout)}`),
        Transport: (error) => unavailable(`the token endpoint could not be reached (${error.reason}): ${error.detail}`)
      }
    )
    if (response.truncated) {
      return yield* new AuthError({
        reason: "InvalidTokenResponse",
        key: request.key,
        status: response.status,
        description: `the token endpoint answered with a body over ${maxBodyBytes} bytes`,
        transient: false
      })
    }
    return { status: response.status, body: utf8.decode(response.body), retryAfter: response.headers["retry-after"] }
  })

/**
 * Sends one token request through the platform HttpClient (not an ApiClient,
 * whose auth slot would call back in here) and parses the answer. Never
 * retries by itself: transient failures are marked so the caller's retry policy can.
 */
export const request = (request: TokenRequest): Effect.Effect<StoredToken, AuthError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const auth = request.clientAuth === undefined ?
      { params: {} } :
      yield* clientAuthParams(request, request.clientAuth, now)
    const form: Array<[string, string]> = []
    for (const [name, value] of Object.entries(request.params)) {
      if (value === undefined) continue
      if (Redacted.isRedacted(value)) form.push([name, Redacted.value(value)])
      else if (typeof value === "string") form.push([name, value])
      else for (const v of value) form.push([name, v]) // repeated, e.g. RFC 8707 `resource`
    }
    for (const [name, value] of Object.entries(auth.params)) form.push([name, value])
    let outgoing = HttpClientRequest.post(request.tokenUrl).pipe(
      HttpClientRequest.setHeader("accept", "application/json"),
      HttpClientRequest.bodyText(new URLSearchParams(form).toString(), "application/x-www-form-urlencoded")
    )
    if (auth.header !== undefined) outgoing = HttpClientRequest.setHeader(outgoing, "authorization", auth.header)

    const { body, retryAfter, status } = yield* send(request, outgoing)
    return yield* parse(request, status, body, now, retryAfter)
  }).pipe(
    Effect.withSpan("apikit.auth.token", { kind: "client", attributes: { "apikit.auth.key": request.key } })
  )
