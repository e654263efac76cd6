/**
 * Runs the example's `main` (production layers: undici, memory token store)
 * against a strict client-credentials server served in-process on
 * 127.0.0.1:0 with @effect/platform's HttpServer. The server form-decodes
 * Basic credentials (RFC 6749 §2.3.1), insists on a form-encoded POST,
 * accepts only each client's registered method, and verifies private_key_jwt
 * assertions (ES256 signature, iss = sub = client_id, aud = token URL,
 * exp ≤ iat + 60 s, jti not reused).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { generateKeyPairSync, randomUUID, verify } from "node:crypto"
import { createServer } from "node:http"
import { main } from "../oauth-client-credentials.js"

const secret = "SENTINEL s3cret+:%é"
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
const privateJwk = JSON.stringify({ ...ec.privateKey.export({ format: "jwk" }), kid: "k1" })

const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "))

const makeServer = () => {
  const stats = { tokenRequests: 0, rejections: [] as Array<string> }
  const tokens = new Set<string>()
  const jtis = new Set<string>()
  let tokenUrl = ""

  const json = (status: number, body: unknown) => HttpServerResponse.unsafeJson(body, { status })
  const reject = (status: number, error: string, why: string) => {
    stats.rejections.push(why)
    return json(status, { error, error_description: why })
  }

  const verifyAssertion = (jwt: string): string | undefined => {
    const [h, p, s] = jwt.split(".")
    if (h === undefined || p === undefined || s === undefined) return "malformed assertion"
    const header = JSON.parse(Buffer.from(h, "base64url").toString())
    if (header.alg !== "ES256") return "alg must be ES256"
    const ok = verify(
      "sha256",
      Buffer.from(`${h}.${p}`),
      { key: ec.publicKey, dsaEncoding: "ieee-p1363" },
      Buffer.from(s, "base64url")
    )
    if (!ok) return "bad signature"
    const claims = JSON.parse(Buffer.from(p, "base64url").toString())
    if (claims.iss !== "jwt-client" || claims.sub !== "jwt-client") return "iss/sub must be the client id"
    if (claims.aud !== tokenUrl) return "aud must be the token URL"
    if (typeof claims.jti !== "string" || jtis.has(claims.jti)) return "jti missing or reused"
    jtis.add(claims.jti)
    if (!(claims.exp > claims.iat && claims.exp - claims.iat <= 60)) return "exp must be within 60 s of iat"
    return undefined
  }

  const token = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    stats.tokenRequests++
    if (!/^application\/x-www-form-urlencoded/.test(request.headers["content-type"] ?? "")) {
      return reject(400, "invalid_request", "not form-encoded")
    }
    const form = new URLSearchParams(yield* request.text)
    if (form.get("grant_type") !== "client_credentials") return reject(400, "unsupported_grant_type", "grant")
    const basic = /^Basic (.+)$/.exec(request.headers["authorization"] ?? "")
    let client: string | undefined
    if (basic !== null) {
      const raw = Buffer.from(basic[1]!, "base64").toString()
      const colon = raw.indexOf(":")
      const [id, pass] = [formDecode(raw.slice(0, colon)), formDecode(raw.slice(colon + 1))]
      if (id === "basic-client" && pass === secret && !form.has("client_secret")) client = id
    } else if (form.has("client_secret")) {
      if (form.get("client_id") === "post-client" && form.get("client_secret") === secret) client = "post-client"
    } else if (form.has("client_assertion")) {
      const why = form.get("client_id") === "jwt-client" &&
          form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ? verifyAssertion(form.get("client_assertion")!)
        : "wrong client_id or assertion type"
      if (why !== undefined) return reject(401, "invalid_client", why)
      client = "jwt-client"
    }
    if (client === undefined) return reject(401, "invalid_client", "client authentication failed")
    const access = `SENTINEL-at-${randomUUID()}`
    tokens.add(access)
    return json(200, { access_token: access, token_type: "Bearer", expires_in: "3600", scope: form.get("scope") })
  })

  const resource = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const m = /^Bearer (.+)$/.exec(request.headers["authorization"] ?? "")
    return m !== null && tokens.has(m[1]!) ? json(200, { ok: true }) : json(401, { message: "invalid token" })
  })

  const layer = HttpServer.serve(
    HttpRouter.empty.pipe(HttpRouter.post("/token", token), HttpRouter.get("/api/things", resource))
  ).pipe(
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )
  const base = HttpServer.addressWith((a) => {
    const url = a._tag === "TcpAddress" ? `http://127.0.0.1:${a.port}` : ""
    tokenUrl = `${url}/token`
    return Effect.succeed(url)
  })
  return { stats, layer, base }
}

const runMain = (server: ReturnType<typeof makeServer>, env: (base: string) => Record<string, string>) =>
  Effect.gen(function*() {
    const base = yield* server.base
    return yield* main.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env(base))))),
      Effect.either
    )
  }).pipe(Effect.provide(server.layer))

describe("examples/oauth-client-credentials", () => {
  for (
    const [auth, vars] of [
      ["basic", { OAUTH_CLIENT_ID: "basic-client", OAUTH_CLIENT_SECRET: secret }],
      ["post", { OAUTH_CLIENT_ID: "post-client", OAUTH_CLIENT_SECRET: secret, OAUTH_CLIENT_AUTH: "post" }],
      ["private_key_jwt", {
        OAUTH_CLIENT_ID: "jwt-client",
        OAUTH_PRIVATE_KEY_JWK: privateJwk,
        OAUTH_CLIENT_AUTH: "private_key_jwt"
      }]
    ] as const
  ) {
    it.effect(`${auth}: every call succeeds with one token request`, () => {
      const server = makeServer()
      return Effect.gen(function*() {
        const result = yield* runMain(server, (base) => ({
          OAUTH_TOKEN_URL: `${base}/token`,
          API_URL: `${base}/api/things`,
          OAUTH_SCOPE: "read",
          CALLS: "25",
          ...vars
        }))
        expect(result._tag).toBe("Right")
        const report = result._tag === "Right" ? result.right : undefined
        expect(report?.lines).toHaveLength(26)
        expect(report?.lines.filter((l) => /^call +\d+: ok 200$/.test(l))).toHaveLength(25)
        expect(report?.lines.at(-1)).toBe("25 of 25 calls succeeded")
        expect(server.stats.rejections).toEqual([])
        expect(server.stats.tokenRequests).toBe(1)
        expect(JSON.stringify(report)).not.toContain("SENTINEL")
      })
    })
  }

  it.effect("CALLS defaults to 20; a wrong secret fails every call and main fails", () => {
    const server = makeServer()
    return Effect.gen(function*() {
      const result = yield* runMain(server, (base) => ({
        OAUTH_TOKEN_URL: `${base}/token`,
        OAUTH_CLIENT_ID: "basic-client",
        OAUTH_CLIENT_SECRET: "SENTINEL wrong",
        API_URL: `${base}/api/things`
      }))
      expect(result._tag).toBe("Left")
      const error = result._tag === "Left" ? result.left : undefined
      expect(error?._tag).toBe("CallsFailed")
      expect(error?.message).toBe("20 of 20 calls failed")
      expect(server.stats.tokenRequests).toBe(1) // the failure is shared, not repeated 20 times
    })
  })

  it.effect("missing variables produce one message naming each of them", () => {
    const server = makeServer()
    return Effect.gen(function*() {
      const result = yield* runMain(server, () => ({ OAUTH_CLIENT_AUTH: "private_key_jwt", CALLS: "zero" }))
      expect(result._tag).toBe("Left")
      const message = result._tag === "Left" ? result.left.message : ""
      for (const name of ["OAUTH_TOKEN_URL", "OAUTH_CLIENT_ID", "API_URL", "OAUTH_PRIVATE_KEY_JWK", "CALLS"]) {
        expect(message).toContain(name)
      }
      expect(server.stats.tokenRequests).toBe(0)
    })
  })

  it.effect("a public JWK is refused before any request", () => {
    const server = makeServer()
    return Effect.gen(function*() {
      const result = yield* runMain(server, (base) => ({
        OAUTH_TOKEN_URL: `${base}/token`,
        OAUTH_CLIENT_ID: "jwt-client",
        OAUTH_CLIENT_AUTH: "private_key_jwt",
        OAUTH_PRIVATE_KEY_JWK: JSON.stringify(ec.publicKey.export({ format: "jwk" })),
        API_URL: `${base}/api/things`
      }))
      const message = result._tag === "Left" ? result.left.message : ""
      expect(message).toContain("OAUTH_PRIVATE_KEY_JWK")
      expect(message).toContain("public key")
      expect(server.stats.tokenRequests).toBe(0)
    })
  })
})
