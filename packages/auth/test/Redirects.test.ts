/**
 * Redirects over every transport, against two node:http servers on
 * 127.0.0.1 (two origins): same-origin redirects are followed, loops stop at
 * the limit, and a redirect to the other origin is either refused (the
 * default) or followed without any credential, whatever auth policy stamped it.
 */
import { Auth, OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import type * as Http from "node:http"

const SECRET = "SENTINEL-credential"

const servers = Effect.gen(function*() {
  const seenByOther: Array<{ url: string; headers: Http.IncomingHttpHeaders }> = []
  const other = yield* listen((req, res) => {
    seenByOther.push({ url: req.url!, headers: req.headers })
    res.writeHead(200, { "content-type": "application/json" })
    res.end("{\"other\":true}")
  })
  const api = yield* listen((req, res) => {
    const url = new URL(req.url!, "http://x")
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      switch (url.pathname) {
        case "/same":
          res.writeHead(302, { location: "/target?from=same" })
          return void res.end()
        case "/loop":
          res.writeHead(302, { location: "/loop" })
          return void res.end()
        case "/cross":
          res.writeHead(302, { location: `${other}/landing` })
          return void res.end()
        case "/temporary":
          res.writeHead(307, { location: "/echo" })
          return void res.end()
        case "/see-other":
          res.writeHead(303, { location: "/target" })
          return void res.end()
        case "/oauth/token":
          res.writeHead(200, { "content-type": "application/json" })
          return void res.end(JSON.stringify({ access_token: SECRET, token_type: "Bearer", expires_in: 3600 }))
        case "/echo":
          res.writeHead(200, { "content-type": "application/json" })
          return void res.end(JSON.stringify({ method: req.method, body }))
        default:
          res.writeHead(200, { "content-type": "application/json" })
          return void res.end(JSON.stringify({ method: req.method, path: req.url }))
      }
    })
  })
  return { api, other, seenByOther }
})

const transports = [
  ["apikit's UndiciHttpClient", UndiciHttpClient.layer],
  ["the platform's NodeHttpClient (undici)", NodeHttpClient.layerUndici],
  ["the platform's FetchHttpClient", FetchHttpClient.layer]
] as const

const policies = [
  ["apiKey header", Auth.apiKey({ header: "X-Custom-Key", value: Redacted.make(SECRET) })],
  ["apiKey query", Auth.apiKey({ query: "api_key", value: Redacted.make(SECRET) })],
  ["bearer", Auth.bearer(Redacted.make(SECRET))],
  ["basic", Auth.basic({ username: "u", password: Redacted.make(SECRET) })]
] as const

describe.each(transports)("redirects over %s", (_name, transport) => {
  it.scoped("follows same-origin redirects, stops loops and method changes with a typed error carrying location", () =>
    Effect.gen(function*() {
      const { api: baseUrl, other, seenByOther } = yield* servers
      const api = yield* ApiClient.make({ baseUrl })
      expect(yield* api.get("/same")).toEqual({ method: "GET", path: "/target?from=same" })
      expect(yield* api.post("/see-other", { body: { a: 1 } })).toEqual({ method: "GET", path: "/target" })
      expect(yield* api.post("/temporary", { body: { a: 1 } })).toEqual({ method: "POST", body: "{\"a\":1}" })

      const loop = yield* Effect.flip(api.get("/loop"))
      expect(loop._tag === "UnexpectedStatus" && loop.location).toBe(`${baseUrl}/loop`)
      expect(loop.message).toContain("more than 5 redirects")

      const cross = yield* Effect.flip(api.get("/cross"))
      expect(cross._tag === "UnexpectedStatus" && cross.location).toBe(`${other}/landing`)
      expect(seenByOther).toEqual([])

      const none = yield* ApiClient.make({ baseUrl, redirects: { follow: false } })
      const stopped = yield* Effect.flip(none.get("/same"))
      expect(stopped._tag === "UnexpectedStatus" && stopped.location).toBe(`${baseUrl}/target?from=same`)
    }).pipe(Effect.provide(transport)))

  it.scoped.each(policies)(
    "a cross-origin redirect, when allowed, carries no credential (%s)",
    ([_policy, auth]) =>
      Effect.gen(function*() {
        const { api: baseUrl, seenByOther } = yield* servers
        const api = yield* ApiClient.make({
          baseUrl,
          auth,
          headers: { "x-trace": "t-1", "x-tenant-token": Redacted.make(SECRET) },
          redirects: { crossOrigin: true }
        })
        expect(yield* api.get("/cross", { headers: { "x-call-secret": Redacted.make(SECRET) } })).toEqual({
          other: true
        })
        expect(seenByOther).toHaveLength(1)
        const [seen] = seenByOther
        expect(JSON.stringify(seen)).not.toContain(SECRET)
        expect(JSON.stringify(seen)).not.toContain(Buffer.from(`u:${SECRET}`).toString("base64"))
        expect(seen!.headers["authorization"]).toBeUndefined()
        expect(seen!.url).toBe("/landing")
        expect(seen!.headers["x-trace"]).toBe("t-1")
      }).pipe(Effect.provide(transport))
  )

  it.scoped("a cross-origin redirect, when allowed, carries no OAuth2 token (client credentials)", () =>
    Effect.gen(function*() {
      const { api: baseUrl, seenByOther } = yield* servers
      const api = yield* ApiClient.make({
        baseUrl,
        auth: yield* OAuth2.clientCredentials({
          tokenUrl: `${baseUrl}/oauth/token`,
          clientId: "client",
          clientSecret: Redacted.make("client-secret")
        }),
        redirects: { crossOrigin: true }
      })
      expect(yield* api.get("/cross")).toEqual({ other: true })
      expect(seenByOther).toHaveLength(1)
      expect(JSON.stringify(seenByOther)).not.toContain(SECRET)
      expect(JSON.stringify(seenByOther)).not.toContain("client-secret")
      expect(seenByOther[0]!.headers["authorization"]).toBeUndefined()
    }).pipe(Effect.provide(TokenStore.layerMemory), Effect.provide(transport)))
})
