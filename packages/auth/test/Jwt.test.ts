import { Jwt, OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import * as Jose from "jose"
import { generateKeyPairSync } from "node:crypto"
import * as StrictServer from "./support/StrictServer.js"

// GitHub hands out PKCS#1 PEMs ("BEGIN RSA PRIVATE KEY"), which Web Crypto cannot import directly.
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
const pkcs1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString()
const pkcs8 = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString()

const ed = await Jose.generateKeyPair("EdDSA", { extractable: true })
const edJwk = { ...(await Jose.exportJWK(ed.privateKey)), kid: "ed-1" }
const edPublic = { ...(await Jose.exportJWK(ed.publicKey)), alg: "EdDSA" }

const env = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), TokenStore.layerMemory, Capture.layer))

const stamps = Effect.map(MockHttp.requests, (all) => all.map((r) => r.headers["authorization"]!.slice(7)))

describe("Jwt.githubApp", () => {
  it.effect("signs iss = app id, iat backdated 60 s, exp 10 min after iat; reuses it until a minute before exp", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const api = yield* ApiClient.make({
        baseUrl: "https://api.github.test",
        auth: Jwt.githubApp({ appId: 12345, privateKey: Redacted.make(pkcs1) })
      })
      yield* api.get("/app")
      yield* TestClock.adjust("7 minutes")
      yield* api.get("/app")
      yield* TestClock.adjust("1 minute") // 8 min after signing: exp is 9 min after, margin 60 s
      yield* api.get("/app")
      const [a, b, c] = yield* stamps
      expect(b).toBe(a)
      expect(c).not.toBe(a)
      const { payload, protectedHeader } = yield* Effect.promise(() =>
        Jose.jwtVerify(a!, rsa.publicKey, { currentDate: new Date(1_700_000_000_000) })
      )
      expect(protectedHeader.alg).toBe("RS256")
      expect(payload).toEqual({ iss: "12345", iat: 1_700_000_000 - 60, exp: 1_700_000_000 + 540 })
      const capture = yield* Capture.Capture
      expect(capture.dump()).not.toContain(a!.slice(0, 20))
    }).pipe(env([MockHttp.get("https://api.github.test/*", MockHttp.json(200, {}))])))

  it.effect("a 401 signs a new JWT and replays once", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.github.test",
        auth: Jwt.githubApp({ appId: "1", privateKey: Redacted.make(pkcs8) })
      })
      yield* TestClock.adjust("1 second")
      expect(yield* api.get("/app")).toEqual({ ok: true })
      // RS256 is deterministic and GitHub's claims have no jti: within the same second the new JWT is
      // byte-identical, which is fine; what matters is one replay, then success.
      expect(yield* stamps).toHaveLength(2)
      const e = yield* Effect.flip(api.get("/app"))
      expect(e._tag).toBe("Unauthorized")
      expect(yield* stamps).toHaveLength(4)
    }).pipe(env([
      MockHttp.get(
        "https://api.github.test/*",
        MockHttp.sequence(MockHttp.status(401), MockHttp.json(200, { ok: true }), MockHttp.status(401))
      )
    ])))
})

describe("Jwt.githubAppInstallation", () => {
  const tokensUrl = "https://api.github.test/app/installations/678/access_tokens"
  const installation = Jwt.githubAppInstallation({
    appId: 12345,
    installationId: 678,
    privateKey: Redacted.make(pkcs1),
    baseUrl: "https://api.github.test/",
    permissions: { contents: "read" }
  })

  it.effect("exchanges the app JWT for an installation token, cached until shortly before expires_at", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const api = yield* ApiClient.make({ baseUrl: "https://api.github.test", auth: yield* installation })
      yield* api.get("/installation/repositories")
      yield* TestClock.adjust("53 minutes") // one hour token, margin 6 minutes
      yield* api.get("/installation/repositories")
      yield* TestClock.adjust("2 minutes")
      yield* api.get("/installation/repositories")
      const sent = yield* MockHttp.requests
      const exchanges = sent.filter((r) => r.route === tokensUrl)
      expect(exchanges).toHaveLength(2)
      expect(exchanges[0]!.json).toEqual({ permissions: { contents: "read" } })
      expect(exchanges[0]!.headers["accept"]).toBe("application/vnd.github+json")
      const jwt = exchanges[0]!.headers["authorization"]!.slice(7)
      const { payload } = yield* Effect.promise(() =>
        Jose.jwtVerify(jwt, rsa.publicKey, { currentDate: new Date(Date.parse("2026-01-01T00:00:00Z")) })
      )
      expect(payload).toEqual({ iss: "12345", iat: 1767225600 - 60, exp: 1767225600 + 540 })
      const calls = sent.filter((r) => r.route !== tokensUrl).map((r) => r.headers["authorization"])
      expect(calls).toEqual(["Bearer ghs_1", "Bearer ghs_1", "Bearer ghs_2"])
      const capture = yield* Capture.Capture
      expect(capture.dump()).not.toContain("ghs_")
    }).pipe(env([
      MockHttp.post(
        tokensUrl,
        MockHttp.sequence(
          MockHttp.json(201, { token: "ghs_1", expires_at: "2026-01-01T01:00:00Z" }),
          MockHttp.json(201, { token: "ghs_2", expires_at: "2026-01-01T01:55:00Z" })
        )
      ),
      MockHttp.get("https://api.github.test/*", MockHttp.json(200, { repositories: [] }))
    ])))

  it.effect("maps GitHub's refusals: 404 rejected with its message, 5xx transient, garbage invalid", () =>
    Effect.gen(function*() {
      for (
        const [expected, fields] of [
          ["TokenEndpointRejected", { status: 404, description: "Not Found", transient: false }],
          ["TokenEndpointUnavailable", { status: 502, transient: true }],
          ["InvalidTokenResponse", { status: 201, transient: false }]
        ] as const
      ) {
        const api = yield* ApiClient.make({ baseUrl: "https://api.github.test", auth: yield* installation })
        const e = yield* Effect.flip(api.get("/installation/repositories"))
        expect(e).toMatchObject({ _tag: "AuthError", reason: expected, ...fields })
      }
    }).pipe(env([
      MockHttp.post(
        tokensUrl,
        MockHttp.sequence(
          MockHttp.json(404, { message: "Not Found" }),
          MockHttp.status(502),
          MockHttp.json(201, { token: "ghs_x", expires_at: "tomorrow" })
        )
      )
    ])))
})

describe("Jwt.assertion", () => {
  it.effect("signs EdDSA with a JWK (kid from the JWK) and HS256 with a shared secret", () =>
    Effect.gen(function*() {
      const ed25519 = yield* ApiClient.make({
        baseUrl: "https://api.test",
        auth: Jwt.assertion({
          key: "ed",
          signingKey: { algorithm: "EdDSA", key: Redacted.make(JSON.stringify(edJwk)) },
          claims: { iss: "me", aud: "them" },
          lifetime: "5 minutes"
        })
      })
      const hs = yield* ApiClient.make({
        baseUrl: "https://api.test",
        auth: Jwt.assertion({
          key: "hs",
          signingKey: { algorithm: "HS256", key: Redacted.make("SENTINEL-secret-shared-0123456789abcdef") },
          claims: { iss: "me" }
        })
      })
      yield* ed25519.get("/x")
      yield* hs.get("/x")
      const [a, b] = yield* stamps
      const edResult = yield* Effect.promise(() => Jose.jwtVerify(a!, ed.publicKey, { currentDate: new Date(0) }))
      expect(edResult.protectedHeader).toMatchObject({ alg: "EdDSA", kid: "ed-1" })
      expect(edResult.payload).toMatchObject({ iss: "me", aud: "them", iat: 0, exp: 300 })
      expect(edResult.payload.jti).toBeDefined()
      const hsResult = yield* Effect.promise(() =>
        Jose.jwtVerify(b!, new TextEncoder().encode("SENTINEL-secret-shared-0123456789abcdef"), {
          currentDate: new Date(0)
        })
      )
      expect(hsResult.payload.exp).toBe(600)
    }).pipe(env([MockHttp.get("https://api.test/*", MockHttp.json(200, {}))])))
})

describe("OAuth2.jwtBearer (RFC 7523)", () => {
  it.effect("exchanges a signed assertion for a token at the strict endpoint, cached like client credentials", () => {
    const server = StrictServer.make({
      clients: [],
      expiresIn: 3600,
      jwtBearerKeys: { "svc@project.test": edPublic }
    })
    return Effect.gen(function*() {
      const auth = yield* OAuth2.jwtBearer({
        tokenUrl: "https://auth.test/token",
        issuer: "svc@project.test",
        signingKey: { algorithm: "EdDSA", key: Redacted.make(JSON.stringify(edJwk)) },
        scope: "read"
      })
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth })
      yield* api.get("/x")
      yield* api.get("/x")
      expect(server.stats.rejections).toEqual([])
      expect(server.stats.byGrant["urn:ietf:params:oauth:grant-type:jwt-bearer"]).toBe(1)
      const form = new URLSearchParams((yield* MockHttp.requests)[0]!.text)
      const claims = Jose.decodeJwt(form.get("assertion")!)
      expect(claims).toMatchObject({ iss: "svc@project.test", sub: "svc@project.test", aud: "https://auth.test/token" })
      expect(form.get("scope")).toBe("read")
    }).pipe(env(StrictServer.mockRoutes(server)))
  })

  it.effect("a rejected assertion is an AuthError with invalid_grant", () => {
    const server = StrictServer.make({ clients: [], jwtBearerKeys: {} })
    return Effect.gen(function*() {
      const auth = yield* OAuth2.jwtBearer({
        tokenUrl: "https://auth.test/token",
        issuer: "stranger",
        signingKey: { algorithm: "EdDSA", key: Redacted.make(JSON.stringify(edJwk)) }
      })
      const api = yield* ApiClient.make({ baseUrl: "https://api.test", auth })
      const e = yield* Effect.flip(api.get("/x"))
      expect(e).toMatchObject({ _tag: "AuthError", reason: "TokenEndpointRejected", error: "invalid_grant" })
    }).pipe(env(StrictServer.mockRoutes(server)))
  })
})
