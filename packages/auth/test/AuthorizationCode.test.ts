import { OAuth2, Pkce, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Redacted, Schema, TestClock } from "effect"
import * as StrictServer from "./support/StrictServer.js"

const secret = "SENTINEL-secret +:%é"
const tokenUrl = "https://auth.test/token"
const redirectUri = "https://app.test/callback"

const strict = (options: Partial<StrictServer.Options> = {}) =>
  StrictServer.make({
    clients: [
      { id: "web-app", method: "client_secret_basic", secret },
      { id: "spa", method: "none" }
    ],
    expiresIn: 3600,
    issuer: "https://auth.test",
    ...options
  })

const env = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), TokenStore.layerMemory, Capture.layer))

const flow = (options: Partial<OAuth2.AuthorizationCodeOptions> = {}) =>
  OAuth2.authorizationCode({
    authorizeUrl: "https://auth.test/authorize",
    tokenUrl,
    clientId: "web-app",
    clientSecret: Redacted.make(secret),
    redirectUri,
    scope: ["read", "offline_access"],
    issuer: "https://auth.test",
    ...options
  })

/** Authorizes, lets the user approve, and handles the callback for `connection`. */
const connect = (client: OAuth2.AuthorizationCode, server: StrictServer.Strict, connection = "user-1") =>
  Effect.gen(function*() {
    const { pending, url } = yield* client.authorize()
    return yield* client.callback({ connection, pending, response: server.approve(url) })
  })

const stored = (connection: string, clientId = "web-app") =>
  Effect.flatMap(TokenStore.TokenStore, (s) => s.get(`oauth2-connection:${clientId}:${connection}`)).pipe(
    Effect.map(Option.getOrThrow)
  )

const noSecrets = (...errors: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const shown = [(yield* Capture.Capture).dump(), ...errors.map((e) => `${String(e)} ${JSON.stringify(e)}`)]
      .join("\n")
    for (const s of ["SENTINEL-secret", "SENTINEL-at-", "SENTINEL-rt-", "SENTINEL-code-"]) {
      expect(shown).not.toContain(s)
    }
  })

describe("PKCE", () => {
  it.effect("S256 matches RFC 7636 Appendix B", () =>
    Effect.gen(function*() {
      expect(yield* Pkce.challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
      )
    }))

  it.effect("fresh verifiers are 43 unreserved characters, distinct, with their own challenge", () =>
    Effect.gen(function*() {
      const a = yield* Pkce.make
      const b = yield* Pkce.make
      expect(Redacted.value(a.verifier)).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(Redacted.value(a.verifier)).not.toBe(Redacted.value(b.verifier))
      expect(a.challenge).toBe(yield* Pkce.challengeOf(Redacted.value(a.verifier)))
      expect(a.method).toBe("S256")
    }))
})

describe("OAuth2.authorizationCode", () => {
  it.effect("builds the authorize URL with S256 PKCE, state and nonce", () =>
    Effect.gen(function*() {
      const client = yield* flow({ extraAuthorizeParams: { prompt: "consent" } })
      const { pending, url } = yield* client.authorize({ nonce: true })
      const p = new URL(url).searchParams
      expect(url.startsWith("https://auth.test/authorize?")).toBe(true)
      expect(Object.fromEntries(p)).toMatchObject({
        response_type: "code",
        client_id: "web-app",
        redirect_uri: redirectUri,
        scope: "read offline_access",
        code_challenge_method: "S256",
        prompt: "consent",
        state: pending.state,
        nonce: pending.nonce
      })
      expect(p.get("code_challenge")).toBe(yield* Pkce.challengeOf(Redacted.value(pending.codeVerifier)))
      expect(pending.state).toMatch(/^[\w-]{32}$/)
      // The pending authorization survives the session store as JSON.
      const json = Schema.encodeSync(Schema.parseJson(OAuth2.PendingAuthorization))(pending)
      const back = Schema.decodeSync(Schema.parseJson(OAuth2.PendingAuthorization))(json)
      expect(Redacted.value(back.codeVerifier)).toBe(Redacted.value(pending.codeVerifier))
    }).pipe(env([])))

  it.effect("exchanges the code (strict PKCE) and calls the API with the connection's token", () => {
    const server = strict()
    return Effect.gen(function*() {
      const client = yield* flow()
      const tokens = yield* connect(client, server)
      expect(tokens.refreshToken).toBeDefined()
      expect(server.stats.rejections).toEqual([])
      const sent = (yield* MockHttp.requests)[0]!
      const form = new URLSearchParams(sent.text)
      expect(form.get("grant_type")).toBe("authorization_code")
      expect(form.get("redirect_uri")).toBe(redirectUri)
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      expect(yield* api.get("/me")).toEqual({ ok: true, grant: 0 })
      yield* noSecrets()
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a public client (none) sends client_id and the verifier", () => {
    const server = strict()
    return Effect.gen(function*() {
      const client = yield* flow({ clientId: "spa", clientSecret: undefined })
      yield* connect(client, server)
      expect(server.stats.rejections).toEqual([])
      const form = new URLSearchParams((yield* MockHttp.requests)[0]!.text)
      expect(form.get("client_id")).toBe("spa")
      expect(form.get("code_verifier")).toMatch(/^[\w-]{43}$/)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("rejects a state mismatch without exchanging the code", () => {
    const server = strict()
    return Effect.gen(function*() {
      const client = yield* flow()
      const { pending, url } = yield* client.authorize()
      const forged = server.approve(url, { state: "attacker-state" })
      const e = yield* Effect.flip(client.callback({ connection: "u", pending, response: forged }))
      expect(e).toMatchObject({ _tag: "AuthError", reason: "InvalidCallback", transient: false })
      expect(e.description).toContain("state does not match")
      expect(server.stats.tokenRequests).toBe(0)
      yield* noSecrets(e)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("rejects an iss from another issuer (mix-up), and a missing iss when required", () => {
    const server = strict({ issuer: undefined })
    return Effect.gen(function*() {
      const client = yield* flow()
      const a = yield* client.authorize()
      const mixedUp = yield* Effect.flip(
        client.callback({
          connection: "u",
          pending: a.pending,
          response: server.approve(a.url, { iss: "https://evil.test" })
        })
      )
      expect(mixedUp.description).toContain("not the expected issuer")
      const strictClient = yield* flow({ requireIssuer: true })
      const b = yield* strictClient.authorize()
      const missing = yield* Effect.flip(
        strictClient.callback({ connection: "u", pending: b.pending, response: server.approve(b.url) })
      )
      expect(missing.description).toContain("no iss")
      expect(server.stats.tokenRequests).toBe(0)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("an error callback (access_denied) is InvalidCallback with the OAuth error code", () =>
    Effect.gen(function*() {
      const client = yield* flow()
      const { pending } = yield* client.authorize()
      const e = yield* Effect.flip(client.callback({
        connection: "u",
        pending,
        response: `${redirectUri}?error=access_denied&error_description=The+user+said+no&state=${pending.state}`
      }))
      expect(e).toMatchObject({ reason: "InvalidCallback", error: "access_denied" })
      expect(e.message).toContain("The user said no")
    }).pipe(env([])))

  it.effect("a code exchange is never retried, even on a 503", () =>
    Effect.gen(function*() {
      const client = yield* flow()
      const { pending } = yield* client.authorize()
      const e = yield* Effect.flip(
        client.callback({ connection: "u", pending, response: { code: "SENTINEL-code-1", state: pending.state } })
      )
      expect(e).toMatchObject({ reason: "TokenEndpointUnavailable", status: 503, transient: false })
      expect(yield* MockHttp.count()).toBe(1)
      yield* noSecrets(e)
    }).pipe(env([MockHttp.post(tokenUrl, MockHttp.json(503, { error: "temporarily_unavailable" }))])))

  it.effect("the strict server revokes the grant when a code is replayed", () => {
    const server = strict()
    return Effect.gen(function*() {
      const client = yield* flow()
      const { pending, url } = yield* client.authorize()
      const callbackUrl = server.approve(url)
      yield* client.callback({ connection: "u", pending, response: callbackUrl })
      const replay = yield* Effect.flip(client.callback({ connection: "u", pending, response: callbackUrl }))
      expect(replay).toMatchObject({ reason: "TokenEndpointRejected", error: "invalid_grant" })
      expect(server.grants[0]!.revoked).toBe(true)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("checks the ID token's nonce", () =>
    Effect.gen(function*() {
      const client = yield* flow()
      const { pending } = yield* client.authorize({ nonce: true })
      const e = yield* Effect.flip(
        client.callback({ connection: "u", pending, response: { code: "c", state: pending.state } })
      )
      expect(e).toMatchObject({ reason: "InvalidCallback" })
      expect(e.description).toContain("nonce")
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.json(200, {
          access_token: "a",
          token_type: "Bearer",
          // {"alg":"none"}.{"nonce":"other"}.
          id_token: "eyJhbGciOiJub25lIn0.eyJub25jZSI6Im90aGVyIn0."
        })
      )
    ])))

  it.effect("refreshes at expiry with rotation: the new refresh token is persisted", () => {
    const server = strict({ expiresIn: 600 })
    return Effect.gen(function*() {
      const client = yield* flow()
      const first = yield* connect(client, server)
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      yield* TestClock.adjust("10 minutes")
      yield* api.get("/me")
      const second = yield* stored("user-1")
      expect(Redacted.value(second.refreshToken!)).not.toBe(Redacted.value(first.refreshToken!))
      yield* TestClock.adjust("10 minutes")
      yield* api.get("/me") // the strict server would revoke the grant if the rotated-out token came back
      expect(server.stats.rejections).toEqual([])
      expect(server.stats.byGrant["refresh_token"]).toBe(2)
      expect(server.grants[0]!.revoked).toBe(false)
      yield* noSecrets()
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("keeps the old refresh token when the server returns none", () => {
    const server = strict({ expiresIn: 600, rotate: false })
    return Effect.gen(function*() {
      const client = yield* flow()
      const first = yield* connect(client, server)
      yield* TestClock.adjust("10 minutes")
      const refreshed = yield* client.token("user-1")
      expect(Redacted.value(refreshed.accessToken)).not.toBe(Redacted.value(first.accessToken))
      expect(Redacted.value((yield* stored("user-1")).refreshToken!)).toBe(Redacted.value(first.refreshToken!))
      yield* TestClock.adjust("10 minutes")
      yield* client.token("user-1")
      expect(server.stats.byGrant["refresh_token"]).toBe(2)
      expect(server.stats.rejections).toEqual([])
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("concurrent refreshes of one connection are single-flight (strict servers revoke on reuse)", () => {
    const server = strict({ expiresIn: 600 })
    return Effect.gen(function*() {
      const client = yield* flow()
      yield* connect(client, server)
      const a = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      const b = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      yield* TestClock.adjust("10 minutes")
      yield* Effect.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).get("/me")), {
        concurrency: "unbounded"
      })
      expect(server.stats.byGrant["refresh_token"]).toBe(1)
      expect(server.grants[0]!.revoked).toBe(false)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a 401 refreshes once and replays", () => {
    const server = strict({ expiresIn: 3600 })
    return Effect.gen(function*() {
      const client = yield* flow()
      yield* connect(client, server)
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      yield* api.get("/me")
      server.revokeAccessTokens()
      expect(yield* api.get("/me")).toEqual({ ok: true, grant: 0 })
      expect(server.stats.byGrant["refresh_token"]).toBe(1)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a 401 whose refresh fails transiently keeps the refresh token for the next try", () =>
    Effect.gen(function*() {
      const client = yield* flow()
      const { pending } = yield* client.authorize()
      yield* client.callback({ connection: "u", pending, response: { code: "c", state: pending.state } })
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("u") })
      const e = yield* Effect.flip(api.get("/me"))
      expect(e).toMatchObject({ _tag: "AuthError", reason: "TokenEndpointUnavailable" })
      expect(yield* api.get("/me")).toEqual({ ok: true })
      const refreshes = (yield* MockHttp.requests).filter((r) => r.route === tokenUrl).slice(1).map((r) =>
        new URLSearchParams(r.text).get("refresh_token")
      )
      expect(refreshes).toEqual(["r1", "r1"])
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.sequence(
          MockHttp.json(200, { access_token: "a1", token_type: "Bearer", expires_in: 3600, refresh_token: "r1" }),
          MockHttp.status(503),
          MockHttp.json(200, { access_token: "a2", token_type: "Bearer", expires_in: 3600 })
        )
      ),
      MockHttp.get(
        "https://api.test/*",
        (req) => req.headers["authorization"] === "Bearer a2" ? MockHttp.json(200, { ok: true }) : MockHttp.status(401)
      )
    ])))

  it.effect("invalid_grant on refresh is ReauthorizationRequired and forgets the tokens", () => {
    const server = strict({ expiresIn: 600 })
    return Effect.gen(function*() {
      const client = yield* flow()
      yield* connect(client, server)
      server.grants[0]!.revoked = true
      yield* TestClock.adjust("10 minutes")
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth: client.policy("user-1") })
      const e = yield* Effect.flip(api.get("/me"))
      expect(e).toMatchObject({ _tag: "ReauthorizationRequired", key: "oauth2-connection:web-app:user-1" })
      expect(e.message).toContain("must reconnect")
      const store = yield* TokenStore.TokenStore
      expect(Option.isNone(yield* store.get("oauth2-connection:web-app:user-1"))).toBe(true)
      const again = yield* Effect.flip(api.get("/me"))
      expect(again._tag).toBe("ReauthorizationRequired")
      expect(server.stats.byGrant["refresh_token"]).toBe(1)
      yield* noSecrets(e)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("an unknown connection is ReauthorizationRequired; disconnect forgets it", () => {
    const server = strict()
    return Effect.gen(function*() {
      const client = yield* flow()
      expect((yield* Effect.flip(client.token("nobody")))._tag).toBe("ReauthorizationRequired")
      yield* connect(client, server, "user-2")
      yield* client.disconnect("user-2")
      expect((yield* Effect.flip(client.token("user-2")))._tag).toBe("ReauthorizationRequired")
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a transient refresh failure keeps the grant: the next call refreshes", () =>
    Effect.gen(function*() {
      const client = yield* flow()
      const { pending } = yield* client.authorize()
      yield* client.callback({ connection: "u", pending, response: { code: "c", state: pending.state } })
      yield* TestClock.adjust("2 hours")
      const fiber = yield* Effect.fork(Effect.flip(client.token("u")))
      const e = yield* Fiber.join(fiber)
      expect(e).toMatchObject({ _tag: "AuthError", reason: "TokenEndpointUnavailable", transient: true })
      const ok = yield* client.token("u")
      expect(Redacted.value(ok.accessToken)).toBe("a2")
      expect(Redacted.value(ok.refreshToken!)).toBe("r2")
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.sequence(
          MockHttp.json(200, { access_token: "a1", token_type: "Bearer", expires_in: 3600, refresh_token: "r1" }),
          MockHttp.status(502),
          MockHttp.json(200, { access_token: "a2", token_type: "Bearer", expires_in: 3600, refresh_token: "r2" })
        )
      )
    ])))
})
