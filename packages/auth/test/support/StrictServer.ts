/**
 * A strict OAuth 2.0 authorization server for tests, with a protected
 * resource. It follows the RFCs to the letter where clients commonly cut
 * corners, so passing tests prove interoperability rather than
 * self-consistency:
 *
 * - token requests must be POST with `application/x-www-form-urlencoded`;
 * - `client_secret_basic` credentials are form-urldecoded after base64 (RFC 6749
 *   §2.3.1), so a client that skips the form-encoding of a secret with `+`, `:`,
 *   `%` or spaces fails;
 * - a client may use one authentication method only, and only its registered one;
 * - `private_key_jwt` assertions are verified (signature, iss = sub = client_id,
 *   aud = token URL, exp ≤ iat + 60 s, jti never reused);
 * - codes are single use (a replay revokes every token of the grant), bound to the
 *   redirect URI and the S256 PKCE challenge;
 * - refresh tokens rotate; presenting a rotated-out refresh token revokes the grant.
 *
 * `logic` is pure state + functions, served both by MockHttp (in memory) and by
 * an @effect/platform HttpServer on 127.0.0.1:0.
 */
import { MockHttp } from "@apikit/testing"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Encoding, Layer } from "effect"
import * as Jose from "jose"
import { createHash } from "node:crypto"
import { createServer } from "node:http"

export interface Client {
  readonly id: string
  readonly method: "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none"
  readonly secret?: string
  readonly publicKey?: Jose.JWK
  readonly alg?: string
}

export interface Options {
  readonly clients: ReadonlyArray<Client>
  /** `expires_in` of issued tokens; a string is sent as a JSON string. `undefined` omits it. */
  readonly expiresIn?: number | string | undefined
  /** Whether refresh returns a new refresh token (default true). */
  readonly rotate?: boolean
  /** The `iss` the server puts in callbacks (RFC 9207). */
  readonly issuer?: string | undefined
  /** Public keys accepted for the JWT-bearer grant, by `iss`. */
  readonly jwtBearerKeys?: Readonly<Record<string, Jose.JWK>>
}

interface Reply {
  readonly status: number
  readonly body: unknown
  readonly headers?: Record<string, string>
}

interface Grant {
  readonly id: number
  revoked: boolean
  readonly accessTokens: Set<string>
  currentRefresh: string | undefined
  readonly usedRefresh: Set<string>
}

const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))

export const make = (options: Options) => {
  let tokenUrl = "http://placeholder/token"
  let n = 0
  const grants: Array<Grant> = []
  const codes = new Map<
    string,
    { grant: Grant; clientId: string; redirectUri: string; challenge: string; used: boolean }
  >()
  const refreshOwners = new Map<string, Grant>()
  const accessOwners = new Map<string, Grant>()
  const usedJtis = new Set<string>()
  const stats = {
    tokenRequests: 0,
    apiCalls: 0,
    byGrant: {} as Record<string, number>,
    rejections: [] as Array<string>
  }

  const error = (status: number, code: string, description: string, headers: Record<string, string> = {}): Reply => {
    stats.rejections.push(`${code}: ${description}`)
    return { status, body: { error: code, error_description: description }, headers }
  }

  const newGrant = (): Grant => {
    const grant: Grant = {
      id: grants.length,
      revoked: false,
      accessTokens: new Set(),
      currentRefresh: undefined,
      usedRefresh: new Set()
    }
    grants.push(grant)
    return grant
  }

  const issue = (grant: Grant, withRefresh: boolean, scope?: string): Reply => {
    const access = `SENTINEL-at-${++n}`
    grant.accessTokens.add(access)
    accessOwners.set(access, grant)
    const body: Record<string, unknown> = { access_token: access, token_type: n % 2 === 0 ? "Bearer" : "bearer" }
    if (options.expiresIn !== undefined) body.expires_in = options.expiresIn
    if (scope !== undefined) body.scope = scope
    if (withRefresh) {
      const refresh = `SENTINEL-rt-${++n}`
      grant.currentRefresh = refresh
      refreshOwners.set(refresh, grant)
      body.refresh_token = refresh
    }
    return { status: 200, body, headers: { "cache-control": "no-store" } }
  }

  const revoke = (grant: Grant) => {
    grant.revoked = true
  }

  const verifyAssertion = async (assertion: string, key: Jose.JWK, iss: string, sub: string | undefined) => {
    const { payload } = await Jose.jwtVerify(assertion, await Jose.importJWK(key, key.alg ?? "ES256"), {
      algorithms: [key.alg ?? "ES256"],
      issuer: iss,
      audience: tokenUrl,
      // The client signs on the Effect clock (TestClock in tests); judge it on the same one.
      currentDate: new Date(now()),
      ...(sub === undefined ? {} : { subject: sub })
    })
    if (typeof payload.jti !== "string" || usedJtis.has(payload.jti)) return "jti missing or reused"
    usedJtis.add(payload.jti)
    if (typeof payload.iat !== "number" || typeof payload.exp !== "number") return "iat/exp missing"
    return payload
  }

  let now = () => 0

  /** Authenticates the client; returns it or an error reply. */
  const authenticate = async (headers: Record<string, string | undefined>, form: URLSearchParams) => {
    const authorization = headers["authorization"]
    const methods: Array<string> = []
    if (authorization !== undefined) methods.push("basic")
    if (form.has("client_secret")) methods.push("post")
    if (form.has("client_assertion")) methods.push("jwt")
    if (methods.length > 1) return error(400, "invalid_request", "more than one client authentication method")
    const unauthorized = (why: string) =>
      error(401, "invalid_client", why, { "www-authenticate": "Basic realm=\"token\"" })
    if (authorization !== undefined) {
      const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization)
      if (m === null) return unauthorized("malformed Basic credentials")
      const decoded = Encoding.decodeBase64String(m[1]!)
      if (decoded._tag === "Left") return unauthorized("Basic credentials are not base64")
      const colon = decoded.right.indexOf(":")
      if (colon < 0) return unauthorized("Basic credentials have no colon")
      let id: string
      let secret: string
      try {
        id = formDecode(decoded.right.slice(0, colon))
        secret = formDecode(decoded.right.slice(colon + 1))
      } catch {
        return unauthorized("Basic credentials are not form-urlencoded")
      }
      const client = options.clients.find((c) => c.id === id)
      if (client === undefined || client.method !== "client_secret_basic" || client.secret !== secret) {
        return unauthorized("client authentication failed (basic)")
      }
      if (form.has("client_id") && form.get("client_id") !== id) return unauthorized("client_id mismatch")
      return client
    }
    const id = form.get("client_id")
    const client = options.clients.find((c) => c.id === id)
    if (client === undefined) return unauthorized("unknown client")
    if (form.has("client_secret")) {
      if (client.method !== "client_secret_post" || client.secret !== form.get("client_secret")) {
        return unauthorized("client authentication failed (post)")
      }
      return client
    }
    if (form.has("client_assertion")) {
      if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        return unauthorized("wrong client_assertion_type")
      }
      if (client.method !== "private_key_jwt") return unauthorized("client is not registered for private_key_jwt")
      try {
        const payload = await verifyAssertion(form.get("client_assertion")!, client.publicKey!, client.id, client.id)
        if (typeof payload === "string") return unauthorized(payload)
        if (payload.exp! - payload.iat! > 60) return unauthorized("assertion lives longer than 60 s")
      } catch (e) {
        return unauthorized(`assertion rejected: ${(e as Error).message}`)
      }
      return client
    }
    if (client.method !== "none") return unauthorized("client authentication required")
    return client
  }

  const token = async (
    method: string,
    headers: Record<string, string | undefined>,
    body: string
  ): Promise<Reply> => {
    stats.tokenRequests++
    if (method !== "POST") return error(405, "invalid_request", "token requests must be POST")
    const type = headers["content-type"] ?? ""
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
      return error(400, "invalid_request", `content-type must be application/x-www-form-urlencoded, not ${type}`)
    }
    const form = new URLSearchParams(body)
    const grantType = form.get("grant_type") ?? ""
    stats.byGrant[grantType] = (stats.byGrant[grantType] ?? 0) + 1
    if (grantType === "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      const assertion = form.get("assertion")
      if (assertion === null) return error(400, "invalid_request", "no assertion")
      const iss = Jose.decodeJwt(assertion).iss ?? ""
      const key = options.jwtBearerKeys?.[iss]
      if (key === undefined) return error(400, "invalid_grant", "unknown assertion issuer")
      try {
        const payload = await verifyAssertion(assertion, key, iss, undefined)
        if (typeof payload === "string") return error(400, "invalid_grant", payload)
      } catch (e) {
        return error(400, "invalid_grant", `assertion rejected: ${(e as Error).message}`)
      }
      return issue(newGrant(), false, form.get("scope") ?? undefined)
    }
    const client = await authenticate(headers, form)
    if ("status" in client) return client
    switch (grantType) {
      case "client_credentials": {
        const scope = form.get("scope") ?? undefined
        if (scope !== undefined && scope.split(" ").some((s) => !["read", "write"].includes(s))) {
          return error(400, "invalid_scope", "unknown scope")
        }
        return issue(newGrant(), false, scope)
      }
      case "authorization_code": {
        const code = codes.get(form.get("code") ?? "")
        if (code === undefined || code.clientId !== client.id) return error(400, "invalid_grant", "unknown code")
        if (code.used) {
          // RFC 6749 §4.1.2: a replayed code revokes everything issued from it.
          revoke(code.grant)
          return error(400, "invalid_grant", "code already used; grant revoked")
        }
        code.used = true
        if (form.get("redirect_uri") !== code.redirectUri) return error(400, "invalid_grant", "redirect_uri mismatch")
        const verifier = form.get("code_verifier") ?? ""
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return error(400, "invalid_grant", "malformed code_verifier")
        const challenge = createHash("sha256").update(verifier, "ascii").digest("base64url")
        if (challenge !== code.challenge) return error(400, "invalid_grant", "PKCE verification failed")
        return issue(code.grant, true)
      }
      case "refresh_token": {
        const presented = form.get("refresh_token") ?? ""
        const grant = refreshOwners.get(presented)
        if (grant === undefined) return error(400, "invalid_grant", "unknown refresh token")
        if (grant.revoked) return error(400, "invalid_grant", "grant revoked")
        if (grant.currentRefresh !== presented) {
          // A rotated-out refresh token came back: it was stolen or raced. Revoke the grant.
          revoke(grant)
          return error(400, "invalid_grant", "refresh token reuse detected; grant revoked")
        }
        if (options.rotate === false) {
          const reply = issue(grant, false)
          return reply
        }
        grant.usedRefresh.add(presented)
        return issue(grant, true)
      }
      default:
        return error(400, "unsupported_grant_type", `unsupported grant_type ${grantType}`)
    }
  }

  /** The user approves the authorize URL; returns the redirect (callback) URL. */
  const approve = (authorizeUrl: string, override: { state?: string; iss?: string } = {}): string => {
    const url = new URL(authorizeUrl)
    const p = url.searchParams
    const client = options.clients.find((c) => c.id === p.get("client_id"))
    if (p.get("response_type") !== "code" || client === undefined) return "error: bad authorize request"
    if (p.get("code_challenge_method") !== "S256" || (p.get("code_challenge") ?? "").length !== 43) {
      return "error: PKCE S256 required"
    }
    const code = `SENTINEL-code-${++n}`
    codes.set(code, {
      grant: newGrant(),
      clientId: client.id,
      redirectUri: p.get("redirect_uri")!,
      challenge: p.get("code_challenge")!,
      used: false
    })
    const back = new URL(p.get("redirect_uri")!)
    back.searchParams.set("code", code)
    back.searchParams.set("state", override.state ?? p.get("state")!)
    const iss = override.iss ?? options.issuer
    if (iss !== undefined) back.searchParams.set("iss", iss)
    return back.toString()
  }

  /** The protected resource: 200 for a live access token of a live grant, 401 otherwise. */
  const api = (headers: Record<string, string | undefined>): Reply => {
    stats.apiCalls++
    const m = /^Bearer (.+)$/.exec(headers["authorization"] ?? "")
    const grant = m === null ? undefined : accessOwners.get(m[1]!)
    if (grant === undefined || grant.revoked) {
      return {
        status: 401,
        body: { message: "invalid token" },
        headers: { "www-authenticate": "Bearer error=\"invalid_token\"" }
      }
    }
    return { status: 200, body: { ok: true, grant: grant.id } }
  }

  /** Revokes every access token issued so far (the server rotated its keys). */
  const revokeAccessTokens = () => accessOwners.clear()

  return {
    stats,
    grants,
    token,
    approve,
    api,
    revokeAccessTokens,
    setTokenUrl: (url: string) => (tokenUrl = url),
    setClock: (f: () => number) => (now = f)
  }
}

export type Strict = ReturnType<typeof make>

const toMock = (reply: Reply) => MockHttp.json(reply.status, reply.body, reply.headers ?? {})

/** The strict server's routes for MockHttp, at `https://auth.test` and `https://api.test`. */
export const mockRoutes = (server: Strict): ReadonlyArray<MockHttp.Route> => {
  server.setTokenUrl("https://auth.test/token")
  return [
    MockHttp.route(
      "*",
      "https://auth.test/token",
      (req) => Effect.promise(() => server.token(req.method, req.headers, req.text)).pipe(Effect.map(toMock))
    ),
    MockHttp.route("*", "https://api.test/*", (req) => toMock(server.api(req.headers)))
  ]
}

const router = (server: Strict) => {
  const reply = (r: Reply) => HttpServerResponse.unsafeJson(r.body, { status: r.status, headers: r.headers ?? {} })
  return HttpRouter.empty.pipe(
    HttpRouter.all(
      "/token",
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const body = yield* request.text
        return reply(yield* Effect.promise(() => server.token(request.method, request.headers, body)))
      })
    ),
    HttpRouter.get(
      "/api/*",
      Effect.map(HttpServerRequest.HttpServerRequest, (request) => reply(server.api(request.headers)))
    )
  )
}

/** The strict server over a real socket on 127.0.0.1:0 (an @effect/platform HttpServer). */
export const layer = (server: Strict) =>
  HttpServer.serve(router(server)).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )

/** The served base URL; also points the server's expected `aud` at its real token URL. */
export const baseUrl = (server: Strict) =>
  HttpServer.addressWith((a) => {
    const base = a._tag === "TcpAddress" ? `http://127.0.0.1:${a.port}` : "http://unix"
    server.setTokenUrl(`${base}/token`)
    return Effect.succeed(base)
  })
