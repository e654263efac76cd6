import { Auth, Jwt, OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient, type ApiError } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import * as HttpBody from "@effect/platform/HttpBody"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Encoding, Exit, Fiber, Layer, Option, Redacted, Stream, TestClock } from "effect"
import * as Jose from "jose"
import * as StrictServer from "./support/StrictServer.js"

// Characters a client must form-urlencode before base64 (RFC 6749 §2.3.1): `+`, `:`, `%`, space, non-ASCII.
const secret = "SENTINEL-secret +:%é/="
const tokenUrl = "https://auth.test/token"

const keys = await Jose.generateKeyPair("ES256", { extractable: true })
const privateJwk = JSON.stringify(await Jose.exportJWK(keys.privateKey))
const publicJwk = await Jose.exportJWK(keys.publicKey)

const strict = (options: Partial<StrictServer.Options> = {}) =>
  StrictServer.make({
    clients: [
      { id: "basic-app", method: "client_secret_basic", secret },
      { id: "post-app", method: "client_secret_post", secret },
      { id: "jwt-app", method: "private_key_jwt", publicKey: publicJwk }
    ],
    expiresIn: 3600,
    ...options
  })

const env = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), TokenStore.layerMemory, Capture.layer))

const apiWith = (options: Partial<OAuth2.ClientCredentialsOptions> = {}) =>
  Effect.gen(function*() {
    const auth = yield* OAuth2.clientCredentials({
      tokenUrl,
      clientId: "basic-app",
      clientSecret: Redacted.make(secret),
      ...options
    })
    return yield* ApiClient.make({ baseUrl: "https://api.test/v1", auth })
  })

const tokenRequests = MockHttp.count({ route: tokenUrl })

/** Asserts that no secret of these tests appears in the captured logs/spans or in the given errors. */
const assertNoSecrets = (...errors: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const capture = yield* Capture.Capture
    const shown = [
      capture.dump(),
      ...errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).message ?? ""}`)
    ].join("\n")
    for (const s of ["SENTINEL-secret", "SENTINEL-at-", "SENTINEL-rt-", "SENTINEL-code-", "eyJ"]) {
      expect(shown).not.toContain(s)
    }
  })

const authError = (e: ApiError.ApiError) => {
  expect(e._tag).toBe("AuthError")
  return e as ApiError.AuthError
}

describe("OAuth2.clientCredentials against the strict token endpoint (MockHttp)", () => {
  for (
    const [clientId, clientAuth] of [
      ["basic-app", "client_secret_basic"],
      ["post-app", "client_secret_post"],
      ["jwt-app", "private_key_jwt"]
    ] as const
  ) {
    it.effect(`${clientAuth}: gets a token once, stamps it, reuses it`, () => {
      const server = strict()
      return Effect.gen(function*() {
        const api = yield* apiWith({
          clientId,
          clientAuth,
          ...(clientAuth === "private_key_jwt" ?
            { clientSecret: undefined, privateKey: { algorithm: "ES256", key: Redacted.make(privateJwk) } } :
            {})
        })
        expect(yield* api.get("/things")).toEqual({ ok: true, grant: 0 })
        expect(yield* api.get("/things")).toEqual({ ok: true, grant: 0 })
        expect(server.stats.rejections).toEqual([])
        expect(yield* tokenRequests).toBe(1)
        const sent = (yield* MockHttp.requests).filter((r) => r.route === tokenUrl)[0]!
        expect(sent.headers["content-type"]).toMatch(/^application\/x-www-form-urlencoded/)
        expect(new URLSearchParams(sent.text).get("grant_type")).toBe("client_credentials")
        yield* assertNoSecrets()
      }).pipe(env(StrictServer.mockRoutes(server)))
    })
  }

  it.effect("client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)", () =>
    Effect.gen(function*() {
      const api = yield* apiWith({ clientId: "app id:1", clientSecret: Redacted.make("a b+c:d%é~") })
      yield* api.get("/x")
      const [sent] = yield* MockHttp.requests
      expect(sent!.headers["authorization"]).toBe(
        `Basic ${Encoding.encodeBase64("app+id%3A1:a+b%2Bc%3Ad%25%C3%A9%7E")}`
      )
    }).pipe(env([
      MockHttp.post(tokenUrl, MockHttp.json(200, { access_token: "t", token_type: "Bearer" })),
      MockHttp.get("https://api.test/*", MockHttp.json(200, {}))
    ])))

  it.effect("private_key_jwt assertion: iss = sub = client_id, aud = token URL, jti, exp = iat + 60", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const api = yield* apiWith({
        clientId: "jwt-app",
        clientSecret: undefined,
        privateKey: { algorithm: "ES256", key: Redacted.make(privateJwk), keyId: "k1" }
      })
      yield* api.get("/x")
      const [sent] = yield* MockHttp.requests
      const form = new URLSearchParams(sent!.text)
      expect(form.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      const jwt = form.get("client_assertion")!
      const { payload, protectedHeader } = yield* Effect.promise(() =>
        Jose.jwtVerify(jwt, keys.publicKey, { currentDate: new Date(1_700_000_000_000) })
      )
      expect(protectedHeader).toMatchObject({ alg: "ES256", kid: "k1" })
      expect(payload).toMatchObject({ iss: "jwt-app", sub: "jwt-app", aud: tokenUrl, iat: 1_700_000_000 })
      expect(payload.exp).toBe(1_700_000_060)
      expect(payload.jti).toMatch(/^[\w-]{20,}$/)
      expect(sent!.headers["authorization"]).toBeUndefined()
    }).pipe(env([
      MockHttp.post(tokenUrl, MockHttp.json(200, { access_token: "t", token_type: "Bearer" })),
      MockHttp.get("https://api.test/*", MockHttp.json(200, {}))
    ])))

  it.effect("sends scope, audience, repeated resource and extra params", () =>
    Effect.gen(function*() {
      const api = yield* apiWith({
        scope: ["read", "write"],
        audience: "https://api.test",
        resource: ["https://a.test", "https://b.test"],
        extraParams: { tenant: "t1" }
      })
      yield* api.get("/x")
      const [sent] = yield* MockHttp.requests
      const form = new URLSearchParams(sent!.text)
      expect(form.get("scope")).toBe("read write")
      expect(form.get("audience")).toBe("https://api.test")
      expect(form.getAll("resource")).toEqual(["https://a.test", "https://b.test"])
      expect(form.get("tenant")).toBe("t1")
    }).pipe(env([
      MockHttp.post(tokenUrl, MockHttp.json(200, { access_token: "t", token_type: "Bearer" })),
      MockHttp.get("https://api.test/*", MockHttp.json(200, {}))
    ])))

  it.effect("a wrong secret is invalid_client (401), not transient, and the secret is nowhere", () => {
    const server = strict()
    return Effect.gen(function*() {
      const api = yield* apiWith({ clientSecret: Redacted.make("SENTINEL-secret-wrong") })
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e).toMatchObject({
        reason: "TokenEndpointRejected",
        error: "invalid_client",
        status: 401,
        transient: false
      })
      expect(e.message).toContain("invalid_client")
      expect(e.message).toContain("Check the client id, secret")
      yield* assertNoSecrets(e)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("the strict server rejects a client that uses the wrong method", () => {
    const server = strict()
    return Effect.gen(function*() {
      const api = yield* apiWith({ clientId: "basic-app", clientAuth: "client_secret_post" })
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e.error).toBe("invalid_client")
      expect(server.stats.rejections).toEqual(["invalid_client: client authentication failed (post)"])
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("maps each OAuth error code, with description and status", () =>
    Effect.gen(function*() {
      for (const code of ["invalid_scope", "unauthorized_client", "invalid_grant", "unsupported_grant_type"]) {
        const api = yield* apiWith({ key: code, extraParams: { want: code } })
        const e = authError(yield* Effect.flip(api.get("/x")))
        expect(e).toMatchObject({
          reason: "TokenEndpointRejected",
          error: code,
          description: `nope: ${code}`,
          status: 400,
          transient: false
        })
      }
    }).pipe(env([
      MockHttp.post(tokenUrl, (req) => {
        const code = new URLSearchParams(req.text).get("want")!
        return MockHttp.json(400, { error: code, error_description: `nope: ${code}` })
      })
    ])))

  it.effect("5xx, 429, transport failures and timeouts are transient; a 200 with an error body is not", () =>
    Effect.gen(function*() {
      const failWith = (path: string) =>
        Effect.flatMap(apiWith({ key: path, extraParams: { path } }), (api) => Effect.flip(api.get("/x")))
      for (const path of ["500", "503", "429"]) {
        const e = authError(yield* failWith(path))
        expect(e).toMatchObject({ reason: "TokenEndpointUnavailable", status: Number(path), transient: true })
        expect(e.message).toContain("It may succeed if retried.")
      }
      // A rate-limited token endpoint says when to come back; retry policies treat it as a floor.
      const limited = authError(yield* failWith("429-retry-after"))
      expect(limited).toMatchObject({ status: 429, transient: true })
      expect(limited.retryAfter && Duration.toMillis(limited.retryAfter)).toBe(7000)
      expect(limited.message).toContain("It may succeed if retried after 7s.")

      const transport = authError(yield* failWith("reset"))
      expect(transport).toMatchObject({ reason: "TokenEndpointUnavailable", transient: true })
      expect(transport.description).toContain("could not be reached")

      const slow = yield* Effect.fork(failWith("hang"))
      yield* TestClock.adjust("31 seconds")
      const timeout = authError(yield* Fiber.join(slow))
      expect(timeout).toMatchObject({ reason: "TokenEndpointUnavailable", transient: true })
      expect(timeout.description).toContain("30s")

      const github = authError(yield* failWith("200-error"))
      expect(github).toMatchObject({
        reason: "TokenEndpointRejected",
        error: "bad_verification_code",
        transient: false
      })
    }).pipe(env([
      MockHttp.post(tokenUrl, (req) => {
        const path = new URLSearchParams(req.text).get("path")!
        switch (path) {
          case "reset":
            return MockHttp.transportError("ECONNRESET")
          case "hang":
            return MockHttp.hang
          case "200-error":
            return MockHttp.json(200, { error: "bad_verification_code" })
          case "429-retry-after":
            return MockHttp.text(429, "slow down", { "retry-after": "7" })
          default:
            return MockHttp.text(Number(path), "upstream sad")
        }
      })
    ])))

  it.effect("a token request is bounded by the call's deadline; the cached token is not (no watcher fiber)", () =>
    Effect.gen(function*() {
      const auth = yield* OAuth2.clientCredentials({ tokenUrl, clientId: "c", clientSecret: Redacted.make(secret) })
      // The policy keeps its promise itself, so ApiClient needs no watcher fiber per call.
      expect(auth.honorsDeadline).toBe(true)
      const api = yield* ApiClient.make({ baseUrl: "https://api.test/v1", auth, timeout: { total: "5 seconds" } })
      const slow = yield* Effect.fork(Effect.flip(api.get("/x")))
      yield* TestClock.adjust("4999 millis")
      expect(slow.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(slow)
      expect(error._tag === "Timeout" && error.reason).toBe("Deadline")
      expect(yield* tokenRequests).toBe(1)
    }).pipe(env([MockHttp.post(tokenUrl, MockHttp.hang)])))

  it.effect("static credentials honour deadlines; a custom credential without getWithin does not", () =>
    Effect.sync(() => {
      expect(Auth.bearer(Redacted.make("t")).honorsDeadline).toBe(true)
      expect(Auth.apiKey({ header: "x-api-key", value: Redacted.make("k") }).honorsDeadline).toBe(true)
      const vault = Auth.fromCredential("vault", { key: "vault", get: Effect.succeed(Redacted.make("t")) })
      expect(vault.honorsDeadline).not.toBe(true)
    }))

  it.effect("a malformed token response is InvalidTokenResponse, without echoing the body", () =>
    Effect.gen(function*() {
      const cases = {
        html: "InvalidTokenResponse: the token endpoint answered with a body that is not JSON",
        empty: "the token response has no access_token",
        mac: "the token_type is \"mac\"; only Bearer tokens are supported",
        array: "the token response has no access_token"
      } as const
      for (const [kind, why] of Object.entries(cases)) {
        const api = yield* apiWith({ key: kind, extraParams: { kind } })
        const e = authError(yield* Effect.flip(api.get("/x")))
        expect(e.reason).toBe("InvalidTokenResponse")
        expect(e.transient).toBe(false)
        expect(`${e.reason}: ${e.description}`).toContain(why.replace("InvalidTokenResponse: ", ""))
        yield* assertNoSecrets(e)
      }
    }).pipe(env([
      MockHttp.post(tokenUrl, (req) => {
        switch (new URLSearchParams(req.text).get("kind")) {
          case "html":
            return MockHttp.text(200, "<html>SENTINEL-at-1</html>")
          case "empty":
            return MockHttp.json(200, { token_type: "Bearer", refresh_token: "SENTINEL-rt-1" })
          case "mac":
            return MockHttp.json(200, { access_token: "SENTINEL-at-2", token_type: "mac" })
          default:
            return MockHttp.json(200, ["SENTINEL-at-3"])
        }
      })
    ])))

  it.effect("tolerates expires_in as a string", () => {
    const server = strict({ expiresIn: "120" })
    return Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      const stored = yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.get(`oauth2:${tokenUrl}#basic-app`))
      expect(Option.getOrThrow(stored).expiresAt).toBe(120_000)
      yield* TestClock.adjust("59 seconds") // margin max(60 s, 12 s) = 60 s: still fresh at 59 s
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("without expires_in the token is kept until a 401 retires it", () => {
    const server = strict({ expiresIn: undefined })
    return Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      yield* TestClock.adjust("30 days")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(1)
      server.revokeAccessTokens()
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("refresh-ahead: renews at the larger of 60 s and 10% of the lifetime before expiry", () => {
    const server = strict({ expiresIn: 3600 })
    return Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      yield* TestClock.adjust(Duration.seconds(3600 - 360 - 1)) // 10% of 1 h = 6 min > 60 s
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a 30 s token is used for 27 s: many calls over 25 s make one token request", () => {
    const server = strict({ expiresIn: 30 })
    return Effect.gen(function*() {
      const api = yield* apiWith()
      for (let second = 0; second <= 25; second++) {
        yield* api.get("/x")
        yield* api.get("/x")
        yield* TestClock.adjust("1 second")
      }
      expect(yield* tokenRequests).toBe(1)
      expect(server.stats.apiCalls).toBe(52)
      yield* TestClock.adjust("1 second") // 27 s: 10% of the lifetime is left, renewal time
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a margin longer than the token's lifetime is capped at half of it", () => {
    const server = strict({ expiresIn: 60 })
    return Effect.gen(function*() {
      const api = yield* apiWith({ refreshMargin: "5 minutes" })
      yield* api.get("/x")
      yield* TestClock.adjust("29 seconds")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("the refresh margin is configurable", () => {
    const server = strict({ expiresIn: 3600 })
    return Effect.gen(function*() {
      const api = yield* apiWith({ refreshMargin: "10 seconds" })
      yield* api.get("/x")
      yield* TestClock.adjust("3589 seconds")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(1)
      yield* TestClock.adjust("2 seconds")
      yield* api.get("/x")
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a transient failure of an early renewal keeps using the still-valid token until it expires", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      yield* TestClock.adjust("3500 seconds") // inside the 360 s window, 100 s before expiry
      expect(yield* api.get("/x")).toEqual({ ok: true })
      expect(yield* tokenRequests).toBe(2)
      const capture = yield* Capture.Capture
      expect(capture.logs.some((l) => l.level === "WARN" && String(l.message).includes("early token renewal failed")))
        .toBe(true)
      yield* TestClock.adjust("100 seconds") // expired now: the failure is the caller's
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e.reason).toBe("TokenEndpointUnavailable")
      const stamps = (yield* MockHttp.requests).filter((r) => r.route !== tokenUrl).map((r) =>
        r.headers["authorization"]
      )
      expect(stamps).toEqual(["Bearer tok-1", "Bearer tok-1"])
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.sequence(
          MockHttp.json(200, { access_token: "tok-1", token_type: "Bearer", expires_in: 3600 }),
          MockHttp.status(503)
        )
      ),
      MockHttp.get("https://api.test/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("100 concurrent calls at expiry cause exactly one token request", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const calls = yield* Effect.fork(Effect.all(Array.from({ length: 100 }, () => api.get("/x")), {
        concurrency: "unbounded"
      }))
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(calls)
      expect(results).toHaveLength(100)
      expect(yield* tokenRequests).toBe(1)
      expect(yield* MockHttp.count({ route: "https://api.test/*" })).toBe(100)
      const stamped = new Set(
        (yield* MockHttp.requests).filter((r) => r.route !== tokenUrl).map((r) => r.headers["authorization"])
      )
      expect([...stamped]).toEqual(["Bearer tok-1"])
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.delay(
          "1 second",
          MockHttp.json(200, { access_token: "tok-1", token_type: "Bearer", expires_in: 3600 })
        )
      ),
      MockHttp.get("https://api.test/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("two policies for the same credential share the cache and the single flight", () =>
    Effect.gen(function*() {
      const a = yield* apiWith()
      const b = yield* apiWith()
      const calls = yield* Effect.fork(
        Effect.all(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? a : b).get("/x")), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(calls)
      expect(yield* tokenRequests).toBe(1)
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.delay("1 second", MockHttp.json(200, { access_token: "t", token_type: "Bearer", expires_in: 3600 }))
      ),
      MockHttp.get("https://api.test/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("tokens for different scopes or audiences are cached apart", () => {
    const server = strict()
    return Effect.gen(function*() {
      const read = yield* apiWith({ scope: "read" })
      const write = yield* apiWith({ scope: "write" })
      const other = yield* apiWith({ scope: "read", audience: "https://other.test" })
      for (const api of [read, write, other, read, write, other]) yield* api.get("/x")
      expect(server.stats.tokenRequests).toBe(3)
      const stamps = (yield* MockHttp.requests).filter((r) => r.route !== tokenUrl).map((r) =>
        r.headers["authorization"]
      )
      expect(new Set(stamps.slice(0, 3)).size).toBe(3)
      expect(stamps.slice(3)).toEqual(stamps.slice(0, 3))
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("an oversized token response is refused without reading it all", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e).toMatchObject({ reason: "InvalidTokenResponse", transient: false })
      expect(e.description).toContain("over 262144 bytes")
    }).pipe(env([MockHttp.post(tokenUrl, MockHttp.text(200, "x".repeat(300 * 1024)))])))

  it.effect("a failed refresh fails every waiter with the same error and does not poison the cache", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const calls = yield* Effect.fork(
        Effect.all(Array.from({ length: 100 }, () => Effect.flip(api.get("/x"))), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("1 second")
      const errors = yield* Fiber.join(calls)
      expect(new Set(errors).size).toBe(1) // the very same error value
      expect(errors[0]).toMatchObject({ _tag: "AuthError", reason: "TokenEndpointUnavailable", status: 503 })
      expect(yield* tokenRequests).toBe(1)
      expect(yield* api.get("/x")).toEqual({ ok: true })
      expect(yield* tokenRequests).toBe(2)
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.sequence(
          MockHttp.delay("1 second", MockHttp.json(503, { error: "temporarily_unavailable" })),
          MockHttp.json(200, { access_token: "tok-2", token_type: "Bearer", expires_in: 3600 })
        )
      ),
      MockHttp.get("https://api.test/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("interrupting the caller that started a refresh does not fail the others", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const first = yield* Effect.fork(api.get("/x"))
      yield* TestClock.adjust("100 millis")
      const second = yield* Effect.fork(api.get("/x"))
      yield* Fiber.interrupt(first)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(second)).toEqual({ ok: true })
      expect(yield* tokenRequests).toBe(1)
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.delay("1 second", MockHttp.json(200, { access_token: "t", token_type: "Bearer", expires_in: 3600 }))
      ),
      MockHttp.get("https://api.test/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("401: renews the token and replays once", () => {
    const server = strict()
    return Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      server.revokeAccessTokens()
      expect(yield* api.get("/x")).toEqual({ ok: true, grant: 1 })
      expect(server.stats.tokenRequests).toBe(2)
      expect(server.stats.apiCalls).toBe(3)
      const stamps = (yield* MockHttp.requests).filter((r) => r.route !== tokenUrl).map((r) =>
        r.headers["authorization"]
      )
      expect(stamps[1]).toBe(stamps[0])
      expect(stamps[2]).not.toBe(stamps[1])
      const renewals = (yield* Capture.Capture).logs.filter((l) => String(l.message) === "apikit auth: new token")
      expect(renewals.map((l) => l.annotations["renewal"])).toEqual(["first", "after 401"])
      yield* assertNoSecrets()
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a 401 retires the token even when the renewal fails: the next call renews, not resends it", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e.reason).toBe("TokenEndpointUnavailable")
      expect(yield* api.get("/x")).toEqual({ ok: true })
      const sent = (yield* MockHttp.requests).map((r) =>
        r.route === tokenUrl ? "token" : `api ${r.headers["authorization"]}`
      )
      expect(sent).toEqual(["token", "api Bearer t1", "api Bearer t1", "token", "token", "api Bearer t2"])
    }).pipe(env([
      MockHttp.post(
        tokenUrl,
        MockHttp.sequence(
          MockHttp.json(200, { access_token: "t1", token_type: "Bearer", expires_in: 3600 }),
          MockHttp.status(503),
          MockHttp.json(200, { access_token: "t2", token_type: "Bearer", expires_in: 3600 })
        )
      ),
      MockHttp.get(
        "https://api.test/*",
        MockHttp.sequence(MockHttp.json(200, { ok: true }), MockHttp.status(401), MockHttp.json(200, { ok: true }))
      )
    ])))

  it.effect("a second 401 is returned as Unauthorized, not looped", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const e = yield* Effect.flip(api.get("/x"))
      expect(e._tag).toBe("Unauthorized")
      expect(yield* tokenRequests).toBe(2)
      expect(yield* MockHttp.count({ route: "https://api.test/*" })).toBe(2)
    }).pipe(env([
      MockHttp.post(tokenUrl, MockHttp.json(200, { access_token: "t", token_type: "Bearer", expires_in: 3600 })),
      MockHttp.get("https://api.test/*", MockHttp.json(401, { message: "no" }))
    ])))

  it.effect("a request whose body cannot be replayed is not replayed", () =>
    Effect.gen(function*() {
      const api = yield* apiWith()
      const e = yield* Effect.flip(api.post("/upload", {
        rawBody: HttpBody.stream(Stream.make(new TextEncoder().encode("data")), "text/plain")
      }))
      expect(e._tag).toBe("Unauthorized")
      expect(yield* tokenRequests).toBe(1)
      expect(yield* MockHttp.count({ route: "https://api.test/*" })).toBe(1)
    }).pipe(env([
      MockHttp.post(tokenUrl, MockHttp.json(200, { access_token: "t", token_type: "Bearer", expires_in: 3600 })),
      MockHttp.post("https://api.test/*", MockHttp.json(401, { message: "no" }))
    ])))

  it.effect("401s from many fibers with the same stale token cause one renewal", () => {
    const server = strict()
    return Effect.gen(function*() {
      const api = yield* apiWith()
      yield* api.get("/x")
      server.revokeAccessTokens()
      yield* Effect.all(Array.from({ length: 20 }, () => api.get("/x")), { concurrency: "unbounded" })
      expect(server.stats.tokenRequests).toBe(2)
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("misconfiguration is a typed AuthError", () =>
    Effect.gen(function*() {
      const noKey = yield* Effect.flip(
        OAuth2.clientCredentials({ tokenUrl, clientId: "x", clientAuth: "private_key_jwt" })
      )
      expect(noKey).toMatchObject({ reason: "Misconfigured", description: "private_key_jwt needs a private key" })
      const badUrl = yield* Effect.flip(OAuth2.clientCredentials({ tokenUrl: "auth.test/token", clientId: "x" }))
      expect(badUrl.reason).toBe("Misconfigured")
      const badKey = yield* Effect.flip(
        Jwt.sign("k", { algorithm: "RS256", key: Redacted.make("SENTINEL-secret-not-a-key") }, {})
      )
      expect(badKey.reason).toBe("SigningFailed")
      expect(badKey.message).not.toContain("SENTINEL")
    }).pipe(env([])))

  it.effect("a store with withLock (a shared store) runs each renewal inside its lock; lock failures are typed", () =>
    Effect.gen(function*() {
      const memory = TokenStore.makeMemory()
      const locks: Array<string> = []
      let held = false
      let failLock = false
      const store: TokenStore.TokenStore["Type"] = {
        ...memory,
        set: (key, token, options) =>
          held ? memory.set(key, token, options) : Effect.dieMessage("set outside the lock"),
        withLock: (key, effect) =>
          failLock
            ? Effect.fail(new TokenStore.TokenStoreError({ operation: "lock", key, detail: "redis down" }))
            : Effect.acquireUseRelease(
              Effect.sync(() => {
                locks.push(key)
                held = true
              }),
              () => effect,
              () => Effect.sync(() => (held = false))
            )
      }
      const api = yield* apiWith().pipe(Effect.provideService(TokenStore.TokenStore, store))
      yield* Effect.all(Array.from({ length: 10 }, () => api.get("/x")), { concurrency: "unbounded" })
      expect(locks).toEqual([`oauth2:${tokenUrl}#basic-app`])
      yield* TestClock.adjust("2 hours")
      failLock = true
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e).toMatchObject({ reason: "TokenStoreUnavailable", transient: true })
      expect(e.description).toBe("the token store failed to lock")
    }).pipe(env(StrictServer.mockRoutes(strict()))))

  it.effect("a token store failure is a transient AuthError", () =>
    Effect.gen(function*() {
      const auth = yield* OAuth2.clientCredentials({ tokenUrl, clientId: "c", clientSecret: Redacted.make(secret) })
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth })
      const e = authError(yield* Effect.flip(api.get("/x")))
      expect(e).toMatchObject({ reason: "TokenStoreUnavailable", transient: true })
    }).pipe(
      Effect.provide(Layer.mergeAll(
        MockHttp.layer([]),
        Layer.succeed(TokenStore.TokenStore, {
          get: (key) => Effect.fail(new TokenStore.TokenStoreError({ operation: "get", key, detail: "down" })),
          set: (key) => Effect.fail(new TokenStore.TokenStoreError({ operation: "set", key, detail: "down" })),
          delete: () => Effect.void
        })
      ))
    ))

  it.effect("exit is a success even when a call sees the store empty after expiry (TTL)", () =>
    Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const api = yield* apiWith()
      yield* api.get("/x")
      yield* TestClock.adjust("2 hours")
      expect(Option.isNone(yield* store.get(`oauth2:${tokenUrl}#basic-app`))).toBe(true)
      expect(Exit.isSuccess(yield* Effect.exit(api.get("/x")))).toBe(true)
    }).pipe(env(StrictServer.mockRoutes(strict()))))
})
