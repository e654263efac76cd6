import { ApiClient, type ApiError } from "@apikit/http"
import { Capture, Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"

interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
  readonly json: any
}

/** One raw request to the sandbox over a real socket. */
const call = (
  method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT",
  path: string,
  options: { readonly headers?: Record<string, string>; readonly body?: unknown; readonly raw?: string } = {}
) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(path.startsWith("http") ? path : sandbox.baseUrl + path).pipe(
      HttpClientRequest.setHeaders(options.headers ?? {})
    )
    if (options.raw !== undefined) {
      request = HttpClientRequest.bodyText(request, options.raw, options.headers?.["content-type"] ?? "text/plain")
    } else if (options.body !== undefined) {
      request = HttpClientRequest.bodyUnsafeJson(request, options.body)
    }
    const response = yield* client.execute(request)
    const text = yield* response.text
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      // not JSON; the test looks at text
    }
    return { status: response.status, headers: response.headers, text, json } as Reply
  }).pipe(Effect.scoped, Effect.orDie)

const key = { "x-api-key": Sandbox.defaultClient.apiKey }

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  raw: new URLSearchParams(fields).toString()
})

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`

const token = Effect.map(
  call(
    "POST",
    "/oauth/token",
    form({ grant_type: "client_credentials" }, {
      authorization: basic(Sandbox.defaultClient.clientId, Sandbox.defaultClient.clientSecret)
    })
  ),
  (r) => r.json.access_token as string
)

const apiClient = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  return yield* ApiClient.make({
    baseUrl: `${sandbox.baseUrl}/v1`,
    headers: { "x-api-key": Redacted.make(key["x-api-key"]) }
  })
})

const withSandbox = (options: Sandbox.Options = {}) =>
  Effect.provide(Layer.mergeAll(Sandbox.layer(options), NodeHttpClient.layerUndici))

const assertTag: <T extends ApiError.ApiError["_tag"]>(
  e: ApiError.ApiError,
  tag: T
) => asserts e is Extract<ApiError.ApiError, { _tag: T }> = (e, tag) => {
  expect(e._tag).toBe(tag)
}

describe("Sandbox OAuth and API keys", () => {
  it.effect("issues tokens with client_secret_basic and client_secret_post", () =>
    Effect.gen(function*() {
      const viaBasic = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "client_credentials" }, {
          authorization: basic("sandbox-client", "sandbox-secret")
        })
      )
      expect(viaBasic.status).toBe(200)
      expect(viaBasic.json).toMatchObject({ token_type: "Bearer", expires_in: 3600, scope: "projects" })
      expect(viaBasic.headers["cache-control"]).toBe("no-store")

      const viaPost = yield* call(
        "POST",
        "/oauth/token",
        form({
          grant_type: "client_credentials",
          client_id: "sandbox-client",
          client_secret: "sandbox-secret",
          scope: "projects:write"
        })
      )
      expect(viaPost.status).toBe(200)
      expect(viaPost.json.scope).toBe("projects:write")
      expect(viaPost.json.access_token).not.toBe(viaBasic.json.access_token)

      const list = yield* call("GET", "/v1/projects", {
        headers: { authorization: `Bearer ${viaPost.json.access_token}` }
      })
      expect(list.status).toBe(200)
      expect((yield* (yield* Sandbox.Sandbox).stats).tokensIssued).toBe(2)
    }).pipe(withSandbox()))

  it.effect("rejects bad token requests with RFC 6749 errors", () =>
    Effect.gen(function*() {
      const wrongSecret = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "client_credentials" }, {
          authorization: basic("sandbox-client", "nope")
        })
      )
      expect(wrongSecret.status).toBe(401)
      expect(wrongSecret.json.error).toBe("invalid_client")
      expect(wrongSecret.headers["www-authenticate"]).toBe("Basic realm=\"sandbox\"")

      const unknownPost = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "client_credentials", client_id: "who", client_secret: "x" })
      )
      expect(unknownPost.status).toBe(401)
      expect(unknownPost.headers["www-authenticate"]).toBeUndefined()

      const grant = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "password", client_id: "sandbox-client", client_secret: "sandbox-secret" })
      )
      expect([grant.status, grant.json.error]).toEqual([400, "unsupported_grant_type"])

      const both = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "client_credentials", client_secret: "sandbox-secret" }, {
          authorization: basic("sandbox-client", "sandbox-secret")
        })
      )
      expect([both.status, both.json.error]).toEqual([400, "invalid_request"])

      const json = yield* call("POST", "/oauth/token", { body: { grant_type: "client_credentials" } })
      expect([json.status, json.json.error]).toEqual([400, "invalid_request"])
      expect(JSON.stringify([wrongSecret.json, both.json])).not.toContain("sandbox-secret")
    }).pipe(withSandbox()))

  it.effect("answers 401 with a Bearer challenge for missing, unknown and expired tokens (sandbox Clock)", () =>
    Effect.gen(function*() {
      const missing = yield* call("GET", "/v1/projects")
      expect(missing.status).toBe(401)
      expect(missing.headers["www-authenticate"]).toBe("Bearer realm=\"sandbox\"")

      const unknown = yield* call("GET", "/v1/projects", { headers: { authorization: "Bearer at_nope" } })
      expect(unknown.status).toBe(401)
      expect(unknown.headers["www-authenticate"]).toContain("error=\"invalid_token\"")

      const t = yield* token
      const ok = yield* call("GET", "/v1/projects", { headers: { authorization: `Bearer ${t}` } })
      expect(ok.status).toBe(200)
      yield* TestClock.adjust("59 seconds")
      expect((yield* call("GET", "/v1/projects", { headers: { authorization: `Bearer ${t}` } })).status).toBe(200)
      yield* TestClock.adjust("1 second")
      const expired = yield* call("GET", "/v1/projects", { headers: { authorization: `Bearer ${t}` } })
      expect(expired.status).toBe(401)
      expect(expired.headers["www-authenticate"]).toBe(
        "Bearer realm=\"sandbox\", error=\"invalid_token\", error_description=\"The access token has expired\""
      )

      // Through ApiClient the 401 is a typed Unauthorized carrying the challenge.
      const sandbox = yield* Sandbox.Sandbox
      const api = yield* ApiClient.make({
        baseUrl: `${sandbox.baseUrl}/v1`,
        headers: { authorization: Redacted.make(`Bearer ${t}`) }
      })
      const error = yield* Effect.flip(api.get("/projects"))
      assertTag(error, "Unauthorized")
      expect(error.wwwAuthenticate).toContain("expired")
    }).pipe(withSandbox({ tokenLifetime: "1 minute" })))

  it.effect("accepts API keys, rejects wrong ones, and revokes tokens on demand", () =>
    Effect.gen(function*() {
      expect((yield* call("GET", "/v1/projects", { headers: key })).status).toBe(200)
      const wrong = yield* call("GET", "/v1/projects", { headers: { "x-api-key": "sk_wrong" } })
      expect(wrong.status).toBe(401)
      expect(wrong.headers["www-authenticate"]).toContain("invalid_token")

      const t = yield* token
      const sandbox = yield* Sandbox.Sandbox
      yield* sandbox.revokeTokens
      expect((yield* call("GET", "/v1/projects", { headers: { authorization: `Bearer ${t}` } })).status).toBe(401)
    }).pipe(withSandbox()))

  it.effect("supports several clients, with Redacted secrets", () =>
    Effect.gen(function*() {
      const ok = yield* call(
        "POST",
        "/oauth/token",
        form({ grant_type: "client_credentials" }, {
          authorization: basic("app two", "s3cr:t+/")
        })
      )
      expect(ok.status).toBe(200)
      expect((yield* call("GET", "/v1/projects", { headers: { "x-api-key": "k2" } })).status).toBe(200)
      expect((yield* call("GET", "/v1/projects", { headers: key })).status).toBe(401)
    }).pipe(withSandbox({
      clients: [{ clientId: "app two", clientSecret: Redacted.make("s3cr:t+/"), apiKey: Redacted.make("k2") }]
    })))

  it.effect("never logs or traces credentials", () =>
    Effect.gen(function*() {
      const t = yield* token
      const api = yield* apiClient
      yield* api.post("/projects", { body: { name: "Apollo" } })
      yield* call("GET", "/v1/projects", { headers: { authorization: `Bearer ${t}` } })
      const dump = (yield* Capture.Capture).dump()
      expect(dump).not.toContain("sandbox-secret")
      expect(dump).not.toContain(t)
      expect(dump).not.toContain(Sandbox.defaultClient.apiKey)
    }).pipe(withSandbox(), Effect.provide(Capture.layer)))
})

describe("Sandbox projects", () => {
  it.effect("creates, reads, updates and deletes a project", () =>
    Effect.gen(function*() {
      const created = yield* call("POST", "/v1/projects", {
        headers: key,
        body: { name: "Apollo", description: "moon" }
      })
      expect(created.status).toBe(201)
      expect(created.json).toMatchObject({ id: "prj_1", name: "Apollo", description: "moon", status: "active" })
      expect(created.headers["location"]).toBe("/v1/projects/prj_1")

      const read = yield* call("GET", "/v1/projects/prj_1", { headers: key })
      expect(read.json).toEqual(created.json)

      yield* TestClock.adjust("1 minute")
      const patched = yield* call("PATCH", "/v1/projects/prj_1", { headers: key, body: { status: "archived" } })
      expect(patched.status).toBe(200)
      expect(patched.json).toMatchObject({ name: "Apollo", status: "archived", updated_at: "1970-01-01T00:01:00.000Z" })

      expect((yield* call("DELETE", "/v1/projects/prj_1", { headers: key })).status).toBe(204)
      expect((yield* call("GET", "/v1/projects/prj_1", { headers: key })).status).toBe(404)
      expect((yield* call("PATCH", "/v1/projects/prj_1", { headers: key, body: {} })).status).toBe(404)
      expect((yield* call("DELETE", "/v1/projects/prj_1", { headers: key })).status).toBe(404)
      expect((yield* call("GET", "/v1/nothing", { headers: key })).status).toBe(404)
    }).pipe(withSandbox()))

  it.effect("validates: 400 on non-JSON, 422 with field errors, 409 on a taken name", () =>
    Effect.gen(function*() {
      const api = yield* apiClient
      const notJson = yield* call("POST", "/v1/projects", {
        headers: { ...key, "content-type": "application/json" },
        raw: "{name:"
      })
      expect(notJson.status).toBe(400)

      const invalid = yield* Effect.flip(api.post("/projects", { body: { name: " ", color: "red", status: "gone" } }))
      assertTag(invalid, "BadRequest")
      expect(invalid.status).toBe(422)
      expect(invalid.fieldErrors.map((f) => f.field).sort()).toEqual(["color", "name", "status"])
      expect(invalid.fieldErrors.find((f) => f.field === "name")?.message).toBe("must not be blank")

      const missing = yield* Effect.flip(api.post("/projects", { body: {} }))
      assertTag(missing, "BadRequest")
      expect(missing.fieldErrors.map((f) => f.field)).toEqual(["name"])

      yield* api.post("/projects", { body: { name: "Apollo" } })
      const taken = yield* Effect.flip(api.post("/projects", { body: { name: "Apollo" } }))
      assertTag(taken, "Conflict")
      yield* api.post("/projects", { body: { name: "Gemini" } })
      const renamed = yield* Effect.flip(api.patch("/projects/prj_2", { body: { name: "Apollo" } }))
      assertTag(renamed, "Conflict")
      const badPatch = yield* Effect.flip(api.patch("/projects/prj_2", { body: { description: 3 } }))
      assertTag(badPatch, "BadRequest")
      expect(badPatch.fieldErrors.map((f) => f.field)).toEqual(["description"])

      const stats = yield* (yield* Sandbox.Sandbox).stats
      expect(stats.projectsCreated).toBe(2)
      expect(stats.duplicates).toBe(0)
    }).pipe(withSandbox()))

  it.effect("replays the original response for a repeated Idempotency-Key, and refuses a different body", () =>
    Effect.gen(function*() {
      const headers = { ...key, "idempotency-key": "k-1" }
      const first = yield* call("POST", "/v1/projects", { headers, raw: "{\"name\":\"Apollo\",\"description\":null}" })
      expect(first.status).toBe(201)
      // Same JSON, other key order and spacing: the same request.
      const again = yield* call("POST", "/v1/projects", {
        headers: { ...headers, "content-type": "application/json" },
        raw: "{ \"description\": null, \"name\": \"Apollo\" }"
      })
      expect(again.status).toBe(201)
      expect(again.json).toEqual(first.json)
      expect(again.headers["idempotent-replayed"]).toBe("true")

      const different = yield* call("POST", "/v1/projects", { headers, body: { name: "Gemini" } })
      expect(different.status).toBe(422)
      expect(different.json.errors[0].field).toBe("Idempotency-Key")

      // Keys are per client: another key is another request, so the name is now taken.
      const other = yield* call("POST", "/v1/projects", {
        headers: { ...key, "idempotency-key": "k-2" },
        body: { name: "Apollo" }
      })
      expect(other.status).toBe(409)
      expect((yield* call("POST", "/v1/projects", { headers: { ...key, "idempotency-key": "" }, body: {} })).status)
        .toBe(400)

      // ApiClient's idempotencyKey: true sends one key for the call.
      const api = yield* apiClient
      yield* api.post("/projects", { body: { name: "Mercury" }, idempotencyKey: "k-3" })
      const replayed = yield* api.exchange("POST", "/projects", { body: { name: "Mercury" }, idempotencyKey: "k-3" })
      expect(replayed.headers["idempotent-replayed"]).toBe("true")

      const stats = yield* (yield* Sandbox.Sandbox).stats
      expect(stats.projectsCreated).toBe(2)
      expect(stats.idempotentReplays).toBe(2)
      expect(stats.duplicates).toBe(0)
    }).pipe(withSandbox()))

  it.effect("counts a duplicate when a key is reused after it expired, or a name slips past", () =>
    Effect.gen(function*() {
      const headers = { ...key, "idempotency-key": "k-1" }
      expect((yield* call("POST", "/v1/projects", { headers, body: { name: "Apollo" } })).status).toBe(201)
      yield* TestClock.adjust("1 hour")
      expect((yield* call("POST", "/v1/projects", { headers, body: { name: "Apollo" } })).status).toBe(201)
      const stats = yield* (yield* Sandbox.Sandbox).stats
      expect(stats.projectsCreated).toBe(2)
      // Both: same key created twice, and a second live "Apollo".
      expect(stats.duplicates).toBe(2)
    }).pipe(withSandbox({ idempotencyTtl: "1 hour", uniqueNames: false })))

  it.effect("paginates with cursors and an RFC 8288 Link header", () =>
    Effect.gen(function*() {
      for (let i = 1; i <= 7; i++) yield* call("POST", "/v1/projects", { headers: key, body: { name: `p${i}` } })
      yield* call("DELETE", "/v1/projects/prj_2", { headers: key })

      const names: Array<string> = []
      let next: string | undefined = "/v1/projects?limit=2"
      let pages = 0
      while (next !== undefined && pages < 10) {
        const page: Reply = yield* call("GET", next, { headers: key })
        expect(page.status).toBe(200)
        names.push(...page.json.data.map((p: { name: string }) => p.name))
        const link: string | undefined = page.headers["link"]
        const m: RegExpExecArray | null = link === undefined ? null : /^<([^>]+)>; rel="next"$/.exec(link)
        expect(m === null).toBe(page.json.next_cursor === null)
        next = m?.[1]
        pages++
      }
      expect(names).toEqual(["p1", "p3", "p4", "p5", "p6", "p7"])
      expect(pages).toBe(3)

      // The Link URL is on the API's own origin, so ApiClient follows it as an absolute URL.
      const api = yield* apiClient
      const first = yield* api.exchange<{ data: Array<unknown> }>("GET", "/projects", { query: { limit: 5 } })
      const link = /^<([^>]+)>/.exec(first.headers["link"]!)![1]!
      const second = yield* api.get<{ data: Array<{ name: string }>; next_cursor: null }>(link)
      expect(second.data.map((p) => p.name)).toEqual(["p7"])
      expect(second.next_cursor).toBeNull()

      expect((yield* call("GET", "/v1/projects?limit=0", { headers: key })).status).toBe(400)
      expect((yield* call("GET", "/v1/projects?limit=x", { headers: key })).status).toBe(400)
      const badCursor = yield* call("GET", "/v1/projects?cursor=garbage", { headers: key })
      expect(badCursor.status).toBe(400)
      expect(badCursor.json.errors[0].field).toBe("cursor")
    }).pipe(withSandbox()))
})

describe("Sandbox rate limits", () => {
  it.effect("sends RateLimit and X-RateLimit headers on every response, 429 with Retry-After past the limit", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2025, 0, 1))
      const remaining: Array<string | undefined> = []
      for (let i = 0; i < 3; i++) {
        const r = yield* call("GET", "/v1/projects", { headers: key })
        expect(r.status).toBe(200)
        remaining.push(r.headers["x-ratelimit-remaining"])
      }
      expect(remaining).toEqual(["2", "1", "0"])
      const limited = yield* call("GET", "/v1/projects", { headers: key })
      expect(limited.status).toBe(429)
      expect(limited.headers["retry-after"]).toBe("10")
      expect(limited.headers["ratelimit"]).toBe("limit=3, remaining=0, reset=10")
      expect(limited.headers["ratelimit-policy"]).toBe("3;w=10")
      expect(limited.headers["x-ratelimit-limit"]).toBe("3")
      expect(limited.headers["x-ratelimit-reset"]).toBe(String(Date.UTC(2025, 0, 1) / 1000 + 10))

      // ApiClient parses them with RetryAfter and RateLimitHeaders.
      const api = yield* apiClient
      const error = yield* Effect.flip(api.get("/projects"))
      assertTag(error, "RateLimited")
      expect(Duration.toSeconds(error.retryAfter!)).toBe(10)
      expect(error.rateLimit?.limit).toBe(3)
      expect(error.rateLimit?.remaining).toBe(0)
      expect(Duration.toSeconds(error.rateLimit!.window!)).toBe(10)

      // The token endpoint is not limited; another window opens after the reset.
      yield* TestClock.adjust("10 seconds")
      expect((yield* call("GET", "/v1/projects", { headers: key })).status).toBe(200)
      const stats = yield* (yield* Sandbox.Sandbox).stats
      expect(stats.rateLimited).toBe(2)
      expect(stats.maxRequestRate["sandbox-client"]).toBe(5)
    }).pipe(withSandbox({ rateLimit: { limit: 3, window: "10 seconds" } })))

  it.effect("limits each client separately", () =>
    Effect.gen(function*() {
      expect((yield* call("GET", "/v1/projects", { headers: { "x-api-key": "a" } })).status).toBe(200)
      expect((yield* call("GET", "/v1/projects", { headers: { "x-api-key": "a" } })).status).toBe(429)
      expect((yield* call("GET", "/v1/projects", { headers: { "x-api-key": "b" } })).status).toBe(200)
    }).pipe(withSandbox({
      rateLimit: { limit: 1, window: "1 second" },
      clients: [{ clientId: "a", clientSecret: "x", apiKey: "a" }, { clientId: "b", clientSecret: "x", apiKey: "b" }]
    })))

  it.effect("measures the maximum request rate per client over any 1-second window", () =>
    Effect.gen(function*() {
      for (let i = 0; i < 3; i++) yield* call("GET", "/v1/projects", { headers: key })
      yield* TestClock.adjust("999 millis")
      for (let i = 0; i < 2; i++) yield* call("GET", "/v1/projects", { headers: key })
      yield* TestClock.adjust("1 millis") // the first three are now more than a second old
      for (let i = 0; i < 4; i++) yield* call("GET", "/v1/projects", { headers: key })
      yield* call("GET", "/v1/projects")
      const sandbox = yield* Sandbox.Sandbox
      const stats = yield* sandbox.stats
      expect(stats.maxRequestRate).toEqual({ "sandbox-client": 6, anonymous: 1 })
      expect(stats.requests).toBe(10)
      const served = yield* call("GET", "/_stats")
      expect(served.json).toEqual(stats)
      // The control path is not counted.
      expect((yield* sandbox.stats).requests).toBe(10)
    }).pipe(withSandbox({ rateLimit: false })))
})

describe("Sandbox lifecycle and options", () => {
  it.effect("serve runs until interrupted and takes a port", () =>
    Effect.gen(function*() {
      const ready = yield* Deferred.make<string>()
      const fiber = yield* Effect.fork(Sandbox.serve({}, (s) => Deferred.succeed(ready, s.baseUrl)))
      const baseUrl = yield* Deferred.await(ready)
      const client = yield* HttpClient.HttpClient
      const stats = yield* client.get(`${baseUrl}/_stats`).pipe(Effect.scoped)
      expect(stats.status).toBe(200)
      yield* Fiber.interrupt(fiber)
      const after = yield* client.get(`${baseUrl}/_stats`).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(after)).toBe(true)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("fails with typed errors on invalid options", () =>
    Effect.gen(function*() {
      const faults = yield* Effect.flip(Layer.build(Sandbox.layer({ faults: { errorRate: 2 } })).pipe(Effect.scoped))
      expect(faults._tag).toBe("InvalidFaults")
      expect(faults.message).toContain("errorRate must be a number in [0, 1]")
      const options = yield* Effect.flip(
        Layer.build(Sandbox.layer({ rateLimit: { limit: 0, window: "1 second" } })).pipe(Effect.scoped)
      )
      expect(options._tag).toBe("InvalidOptions")
      const lifetime = yield* Effect.flip(Layer.build(Sandbox.layer({ tokenLifetime: -1 })).pipe(Effect.scoped))
      expect(lifetime.message).toContain("tokenLifetime")
      const port = yield* Effect.flip(Layer.build(Sandbox.layer({ port: 70000 })).pipe(Effect.scoped))
      expect(port.message).toContain("port must be an integer")
    }))

  it.effect("fails with ServeError when the port is taken", () =>
    Effect.gen(function*() {
      const first = yield* Sandbox.Sandbox
      const taken = yield* Effect.flip(Layer.build(Sandbox.layer({ port: first.port })).pipe(Effect.scoped))
      expect(taken._tag).toBe("ServeError")
    }).pipe(withSandbox()))
})
