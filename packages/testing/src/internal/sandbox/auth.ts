/**
 * The sandbox's authorization server (`POST /oauth/token`, client credentials,
 * RFC 6749 §4.4 with client_secret_basic or client_secret_post) and the check
 * of bearer tokens (RFC 6750) and API keys on `/v1/*`.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { createHash, timingSafeEqual } from "node:crypto"
import * as State from "./state.js"

/** Who is calling, from the request's credentials. @internal */
export type Identity =
  | { readonly _tag: "Client"; readonly clientId: string }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Invalid"; readonly description: string }

// Hashing first makes the comparison constant-time whatever the lengths.
const same = (a: string, b: string): boolean =>
  timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())

/** @internal */
export const identify = (state: State.State, headers: Headers.Headers, now: number): Identity => {
  const authorization = headers["authorization"]
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization)
    if (m === null) return { _tag: "Invalid", description: "Use an access token: Authorization: Bearer <token>" }
    const token = state.tokens.get(m[1]!)
    if (token === undefined) return { _tag: "Invalid", description: "The access token is not valid" }
    if (now >= token.expiresAt) return { _tag: "Invalid", description: "The access token has expired" }
    return { _tag: "Client", clientId: token.clientId }
  }
  const apiKey = headers["x-api-key"]
  if (apiKey !== undefined) {
    const client = state.settings.clients.find((c) => c.apiKey !== undefined && same(c.apiKey, apiKey))
    return client === undefined
      ? { _tag: "Invalid", description: "The API key is not valid" }
      : { _tag: "Client", clientId: client.clientId }
  }
  return { _tag: "Missing" }
}

/** The 401 of RFC 6750 §3: no error code when no credentials were sent. @internal */
export const unauthorized = (identity: Identity): HttpServerResponse.HttpServerResponse => {
  const challenge = identity._tag === "Invalid"
    ? `Bearer realm="sandbox", error="invalid_token", error_description="${identity.description}"`
    : `Bearer realm="sandbox"`
  const message = identity._tag === "Invalid"
    ? `${identity.description}; get a new one from POST /oauth/token`
    : "Authenticate with Authorization: Bearer <token> (POST /oauth/token) or X-API-Key"
  return HttpServerResponse.unsafeJson(
    { error: identity._tag === "Invalid" ? "invalid_token" : "unauthorized", message },
    { status: 401, headers: { "www-authenticate": challenge } }
  )
}

const oauthError = (status: number, error: string, description: string, basic = false) =>
  HttpServerResponse.unsafeJson(
    { error, error_description: description },
    {
      status,
      headers: {
        "cache-control": "no-store",
        ...(basic ? { "www-authenticate": `Basic realm="sandbox"` } : {})
      }
    }
  )

// client_secret_basic form-encodes id and secret before base64 (RFC 6749 §2.3.1).
const formDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "))
  } catch {
    return undefined
  }
}

const basicCredentials = (header: string): { id: string; secret: string } | undefined => {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header)
  if (m === null) return undefined
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  if (colon < 0) return undefined
  const id = formDecode(decoded.slice(0, colon))
  const secret = formDecode(decoded.slice(colon + 1))
  return id === undefined || secret === undefined ? undefined : { id, secret }
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/** `POST /oauth/token`. @internal */
export const tokenEndpoint = (state: State.State) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = request.headers["content-type"] ?? ""
    if (!contentType.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return oauthError(400, "invalid_request", "Send the token request as application/x-www-form-urlencoded")
    }
    const text = yield* Effect.orElseSucceed(request.text, () => undefined)
    if (text === undefined) return oauthError(400, "invalid_request", "The request body could not be read")
    const form = new URLSearchParams(text)
    const header = request.headers["authorization"]
    const usedBasic = header !== undefined
    const bodyId = form.get("client_id")
    const bodySecret = form.get("client_secret")
    if (usedBasic && bodySecret !== null) {
      return oauthError(400, "invalid_request", "Authenticate the client one way only: Basic or form fields")
    }
    const credentials = usedBasic
      ? basicCredentials(header)
      : bodyId !== null && bodySecret !== null
      ? { id: bodyId, secret: bodySecret }
      : undefined
    if (credentials === undefined) {
      return oauthError(
        401,
        "invalid_client",
        "Client authentication failed: send client_id and client_secret (Basic or form fields)",
        usedBasic
      )
    }
    const client = state.settings.clients.find((c) => c.clientId === credentials.id)
    if (client === undefined || !same(client.clientSecret, credentials.secret)) {
      return oauthError(
        401,
        "invalid_client",
        "Client authentication failed: unknown client or wrong secret",
        usedBasic
      )
    }
    const grantType = form.get("grant_type")
    if (grantType !== "client_credentials") {
      return oauthError(
        400,
        grantType === null ? "invalid_request" : "unsupported_grant_type",
        "This server issues tokens for grant_type=client_credentials only"
      )
    }
    const now = yield* Clock.currentTimeMillis
    const token = `at_${hex(yield* State.randomBytes(state, 16))}`
    State.sweep(state.tokens, now)
    state.tokens.set(token, { clientId: client.clientId, expiresAt: now + state.settings.tokenLifetimeMillis })
    state.counters.tokensIssued++
    return HttpServerResponse.unsafeJson({
      access_token: token,
      token_type: "Bearer",
      expires_in: Math.floor(state.settings.tokenLifetimeMillis / 1000),
      scope: form.get("scope") ?? "projects"
    }, { headers: { "cache-control": "no-store" } })
  })
