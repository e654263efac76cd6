/**
 * Every flow against the strict authorization server served by an
 * @effect/platform HttpServer on 127.0.0.1:0, over the real undici transport.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Capture } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import * as Jose from "jose"
import * as StrictServer from "./support/StrictServer.js"

const secret = "SENTINEL-secret +:%é/="
const keys = await Jose.generateKeyPair("ES256", { extractable: true })
const privateJwk = JSON.stringify(await Jose.exportJWK(keys.privateKey))
const publicJwk = { ...(await Jose.exportJWK(keys.publicKey)), alg: "ES256" }

const strict = (options: Partial<StrictServer.Options> = {}) =>
  StrictServer.make({
    clients: [
      { id: "basic-app", method: "client_secret_basic", secret },
      { id: "post-app", method: "client_secret_post", secret },
      { id: "jwt-app", method: "private_key_jwt", publicKey: publicJwk },
      { id: "web-app", method: "client_secret_basic", secret }
    ],
    expiresIn: 3600,
    issuer: "https://auth.test",
    jwtBearerKeys: { "svc@test": publicJwk },
    ...options
  })

const env = (server: StrictServer.Strict) =>
  Effect.provide(
    Layer.mergeAll(StrictServer.layer(server), NodeHttpClient.layerUndici, TokenStore.layerMemory, Capture.layer)
  )

const noSecrets = (...errors: ReadonlyArray<unknown>) =>
  Effect.gen(function*() {
    const shown = [(yield* Capture.Capture).dump(), ...errors.map((e) => `${String(e)} ${JSON.stringify(e)}`)]
      .join("\n")
    for (const s of ["SENTINEL-secret", "SENTINEL-at-", "SENTINEL-rt-", "SENTINEL-code-", "eyJ"]) {
      expect(shown).not.toContain(s)
    }
  })

describe("against the strict token endpoint on 127.0.0.1", () => {
  for (
    const [clientId, clientAuth] of [
      ["basic-app", "client_secret_basic"],
      ["post-app", "client_secret_post"],
      ["jwt-app", "private_key_jwt"]
    ] as const
  ) {
    it.effect(`client credentials with ${clientAuth}: 100 concurrent calls, one token request, 401 replay`, () => {
      const server = strict()
      return Effect.gen(function*() {
        const base = yield* StrictServer.baseUrl(server)
        const auth = yield* OAuth2.clientCredentials({
          tokenUrl: `${base}/token`,
          clientId,
          clientAuth,
          ...(clientAuth === "private_key_jwt" ?
            { privateKey: { algorithm: "ES256", key: Redacted.make(privateJwk) } } :
            { clientSecret: Redacted.make(secret) }),
          scope: "read"
        })
        const api = yield* ApiClient.make({ baseUrl: `${base}/api`, auth })
        const results = yield* Effect.all(Array.from({ length: 100 }, () => api.get("/things")), {
          concurrency: "unbounded"
        })
        expect(results).toHaveLength(100)
        expect(server.stats.rejections).toEqual([])
        expect(server.stats.tokenRequests).toBe(1)

        server.revokeAccessTokens()
        expect(yield* api.get("/things")).toEqual({ ok: true, grant: 1 })
        expect(server.stats.tokenRequests).toBe(2)
        yield* noSecrets()
      }).pipe(env(server))
    })
  }

  it.effect("a wrong secret is invalid_client with status 401", () => {
    const server = strict()
    return Effect.gen(function*() {
      const base = yield* StrictServer.baseUrl(server)
      const auth = yield* OAuth2.clientCredentials({
        tokenUrl: `${base}/token`,
        clientId: "basic-app",
        clientSecret: Redacted.make("SENTINEL-secret-wrong")
      })
      const api = yield* ApiClient.make({ baseUrl: `${base}/api`, auth })
      const e = yield* Effect.flip(api.get("/things"))
      expect(e).toMatchObject({ _tag: "AuthError", error: "invalid_client", status: 401, transient: false })
      yield* noSecrets(e)
    }).pipe(env(server))
  })

  it.effect("a refused connection to the token endpoint is a transient AuthError", () => {
    const server = strict()
    return Effect.gen(function*() {
      const auth = yield* OAuth2.clientCredentials({
        tokenUrl: "http://127.0.0.1:1/token",
        clientId: "basic-app",
        clientSecret: Redacted.make(secret)
      })
      const api = yield* ApiClient.make({ baseUrl: "http://127.0.0.1:1/api", auth })
      const e = yield* Effect.flip(api.get("/things"))
      expect(e).toMatchObject({ _tag: "AuthError", reason: "TokenEndpointUnavailable", transient: true })
    }).pipe(env(server))
  })

  it.effect("authorization code + PKCE, then refreshes with rotation and a 401 replay", () => {
    const server = strict({ expiresIn: 600 })
    return Effect.gen(function*() {
      const base = yield* StrictServer.baseUrl(server)
      const client = yield* OAuth2.authorizationCode({
        authorizeUrl: `${base}/authorize`,
        tokenUrl: `${base}/token`,
        clientId: "web-app",
        clientSecret: Redacted.make(secret),
        redirectUri: "https://app.test/callback",
        issuer: "https://auth.test",
        requireIssuer: true
      })
      const { pending, url } = yield* client.authorize({ scope: "read" })
      yield* client.callback({ connection: "u1", pending, response: server.approve(url) })
      const api = yield* ApiClient.make({ baseUrl: `${base}/api`, auth: client.policy("u1") })
      yield* api.get("/me")
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("10 minutes")
        yield* Effect.all(Array.from({ length: 10 }, () => api.get("/me")), { concurrency: "unbounded" })
      }
      server.revokeAccessTokens()
      yield* api.get("/me")
      expect(server.stats.rejections).toEqual([])
      expect(server.stats.byGrant["refresh_token"]).toBe(4)
      expect(server.grants[0]!.revoked).toBe(false)
      yield* noSecrets()
    }).pipe(env(server))
  })

  it.effect("the JWT-bearer grant", () => {
    const server = strict()
    return Effect.gen(function*() {
      const base = yield* StrictServer.baseUrl(server)
      const auth = yield* OAuth2.jwtBearer({
        tokenUrl: `${base}/token`,
        issuer: "svc@test",
        signingKey: { algorithm: "ES256", key: Redacted.make(privateJwk) }
      })
      const api = yield* ApiClient.make({ baseUrl: `${base}/api`, auth })
      expect(yield* api.get("/x")).toEqual({ ok: true, grant: 0 })
      expect(server.stats.rejections).toEqual([])
    }).pipe(env(server))
  })
})
