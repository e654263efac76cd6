import { ApiClient, ApiError, Policy } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, FastCheck, Fiber, Layer, Redacted, Schema, TestClock } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
const NewProject = Schema.Struct({ name: Schema.NonEmptyString })

const base = "https://api.example.com/v1"

const client = (options: Partial<ApiClient.Options> = {}) => ApiClient.make({ baseUrl: base, ...options })

/** Runs `f` with a client over MockHttp routes and log/span capture. */
const withRoutes = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.merge(MockHttp.layer(routes), Capture.layer))

const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

/** Runs a call that must fail with a Timeout exactly `millis` of virtual time in, and returns the error. */
const timedOutAt = (call: Effect.Effect<unknown, ApiError.ApiError>, millis: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(failure(call))
    yield* TestClock.adjust(millis - 1)
    expect(fiber.unsafePoll()).toBeNull()
    yield* TestClock.adjust(1)
    const error = yield* Fiber.join(fiber)
    assertTag(error, "Timeout")
    expect(Duration.toMillis(error.after)).toBe(millis)
    return error
  })

describe("ApiClient", () => {
  it.effect("decodes a success body with the success Schema and sends path params, query and headers", () =>
    Effect.gen(function*() {
      const api = yield* client({ headers: { "x-api-version": "2024-01-01" } })
      const project = yield* api.get("/projects/:id", {
        params: { id: "p 1/2" },
        query: { expand: ["owner", "team"], draft: false, skip: undefined },
        success: Project
      })
      expect(project).toEqual({ id: "p 1/2", name: "Apollo" })
      const [sent] = yield* MockHttp.requests
      expect(sent!.url.toString()).toBe(
        "https://api.example.com/v1/projects/p%201%2F2?expand=owner&expand=team&draft=false"
      )
      expect(sent!.headers["x-api-version"]).toBe("2024-01-01")
      expect(sent!.headers["accept"]).toBe("application/json")
    }).pipe(withRoutes([
      MockHttp.get("/v1/projects/:id", (req) => MockHttp.json(200, { id: req.params.id, name: "Apollo" }))
    ])))

  it.effect("encodes a JSON body with the body Schema; 204 is void", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const created = yield* api.post("/projects", {
        body: { name: "Apollo" },
        bodySchema: NewProject,
        success: Project
      })
      expect(created.id).toBe("p_1")
      const deleted = yield* api.delete("/projects/p_1")
      expect(deleted).toBeUndefined()
      const sent = yield* MockHttp.requests
      expect(sent[0]!.json).toEqual({ name: "Apollo" })
      expect(sent[0]!.headers["content-type"]).toBe("application/json")
    }).pipe(withRoutes([
      MockHttp.post("/v1/projects", (req) => MockHttp.json(201, { id: "p_1", ...(req.json as object) })),
      MockHttp.del("/v1/projects/:id", MockHttp.status(204))
    ])))

  it.effect("turns each status into its error class", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const tagOf = (path: string) => Effect.map(failure(api.get(path)), (e) => e._tag)
      expect(yield* tagOf("/400")).toBe("BadRequest")
      expect(yield* tagOf("/401")).toBe("Unauthorized")
      expect(yield* tagOf("/403")).toBe("Forbidden")
      expect(yield* tagOf("/404")).toBe("NotFound")
      expect(yield* tagOf("/409")).toBe("Conflict")
      expect(yield* tagOf("/422")).toBe("BadRequest")
      expect(yield* tagOf("/429")).toBe("RateLimited")
      expect(yield* tagOf("/500")).toBe("ServerError")
      expect(yield* tagOf("/502")).toBe("ServerError")
      expect(yield* tagOf("/503")).toBe("ServerError")
      expect(yield* tagOf("/503-retry")).toBe("RateLimited")
      expect(yield* tagOf("/418")).toBe("UnexpectedStatus")
      expect(yield* tagOf("/302")).toBe("UnexpectedStatus")
    }).pipe(withRoutes([
      MockHttp.get("/v1/503-retry", MockHttp.status(503, { "retry-after": "7" })),
      MockHttp.get("/v1/:status", (req) => MockHttp.json(Number(req.params.status), { error: "nope" }))
    ])))

  it.effect("keeps what helps debugging: status, request id, field errors, challenge, body excerpt", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const invalid = yield* failure(api.post("/projects", { body: { name: "" } }))
      assertTag(invalid, "BadRequest")
      expect(invalid.status).toBe(422)
      expect(invalid.requestId).toBe("req_123")
      expect(invalid.fieldErrors.map((f) => [f.field, f.message])).toEqual([["name", "must not be empty"]])
      expect(invalid.message).toContain("name: must not be empty")

      const unauthorized = yield* failure(api.get("/me"))
      assertTag(unauthorized, "Unauthorized")
      expect(unauthorized.wwwAuthenticate).toBe("Bearer realm=\"api\", error=\"invalid_token\"")
      expect(unauthorized.requestId).toBe("gh-1")

      const fastapi = yield* failure(api.put("/fastapi", { body: {} }))
      assertTag(fastapi, "BadRequest")
      expect(fastapi.fieldErrors.map((f) => f.field)).toEqual(["body.name"])
    }).pipe(withRoutes([
      MockHttp.post(
        "/v1/projects",
        MockHttp.json(422, { errors: [{ field: "name", message: "must not be empty" }] }, { "x-request-id": "req_123" })
      ),
      MockHttp.get(
        "/v1/me",
        MockHttp.json(401, { message: "Bad credentials" }, {
          "www-authenticate": "Bearer realm=\"api\", error=\"invalid_token\"",
          "x-github-request-id": "gh-1"
        })
      ),
      MockHttp.put("/v1/fastapi", MockHttp.json(422, { detail: [{ loc: ["body", "name"], msg: "field required" }] }))
    ])))

  it.effect("parses Retry-After (seconds and HTTP-date) and rate-limit headers into RateLimited", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2025, 0, 1, 0, 0, 0))
      const api = yield* client()
      const seconds = yield* failure(api.get("/seconds"))
      assertTag(seconds, "RateLimited")
      expect(seconds.reason).toBe("TooManyRequests")
      expect(Duration.toMillis(seconds.retryAfter!)).toBe(30_000)
      expect(seconds.rateLimit?.limit).toBe(100)
      expect(seconds.rateLimit?.remaining).toBe(0)

      const date = yield* failure(api.get("/date"))
      assertTag(date, "RateLimited")
      expect(Duration.toMillis(date.retryAfter!)).toBe(90_000)

      const garbage = yield* failure(api.get("/garbage"))
      assertTag(garbage, "RateLimited")
      expect(garbage.retryAfter).toBeUndefined()

      const resetOnly = yield* failure(api.get("/reset"))
      assertTag(resetOnly, "RateLimited")
      expect(Duration.toMillis(resetOnly.retryAfter!)).toBe(12_000)
    }).pipe(withRoutes([
      MockHttp.get(
        "/v1/seconds",
        MockHttp.status(429, { "retry-after": "30", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0" })
      ),
      MockHttp.get("/v1/date", MockHttp.status(429, { "retry-after": "Wed, 01 Jan 2025 00:01:30 GMT" })),
      MockHttp.get("/v1/garbage", MockHttp.status(429, { "retry-after": "later, maybe" })),
      MockHttp.get("/v1/reset", MockHttp.status(429, { "ratelimit": "limit=10, remaining=0, reset=12" }))
    ])))

  it.effect("treats GitHub's 403 rate limits (remaining 0, or a Retry-After) as RateLimited", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const api = yield* client()
      const primary = yield* failure(api.get("/primary"))
      assertTag(primary, "RateLimited")
      expect(primary.status).toBe(403)
      expect(Duration.toMillis(primary.retryAfter!)).toBe(60_000)
      const secondary = yield* failure(api.get("/secondary"))
      assertTag(secondary, "RateLimited")
      expect(Duration.toMillis(secondary.retryAfter!)).toBe(30_000)
      // A 403 with quota left is a permission problem.
      expect((yield* failure(api.get("/denied")))._tag).toBe("Forbidden")
    }).pipe(withRoutes([
      MockHttp.get(
        "/v1/primary",
        MockHttp.json(403, { message: "API rate limit exceeded" }, {
          "x-ratelimit-limit": "60",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(1_700_000_000 + 60)
        })
      ),
      MockHttp.get("/v1/secondary", MockHttp.json(403, { message: "secondary rate limit" }, { "retry-after": "30" })),
      MockHttp.get(
        "/v1/denied",
        MockHttp.json(403, { message: "Resource not accessible" }, { "x-ratelimit-remaining": "4999" })
      )
    ])))

  it.effect("classifies transport failures", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const reset = yield* failure(api.get("/reset"))
      assertTag(reset, "Transport")
      expect(reset.reason).toBe("ConnectionReset")
      const refused = yield* failure(api.get("/refused"))
      assertTag(refused, "Transport")
      expect(refused.reason).toBe("ConnectionRefused")
      const dns = yield* failure(api.get("/dns"))
      assertTag(dns, "Transport")
      expect(dns.reason).toBe("DnsLookup")
      const tls = yield* failure(api.get("/tls"))
      assertTag(tls, "Transport")
      expect(tls.reason).toBe("Tls")
    }).pipe(withRoutes([
      MockHttp.get("/v1/reset", MockHttp.transportError("ECONNRESET")),
      MockHttp.get("/v1/refused", MockHttp.transportError("ECONNREFUSED")),
      MockHttp.get("/v1/dns", MockHttp.transportError("ENOTFOUND")),
      MockHttp.get("/v1/tls", MockHttp.transportError("CERT_HAS_EXPIRED"))
    ])))

  it.effect("says where and why a body does not match the Schema, and when it is not JSON", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const mismatch = yield* failure(api.get("/projects/p_1", { success: Project }))
      assertTag(mismatch, "DecodeError")
      expect(mismatch.reason).toBe("SchemaMismatch")
      expect(mismatch.detail).toContain("[\"name\"]")
      expect(mismatch.detail).toContain("Expected string, actual 42")

      const html = yield* failure(api.get("/html", { success: Project }))
      assertTag(html, "DecodeError")
      expect(html.reason).toBe("InvalidJson")
      expect(html.detail).toContain("text/html")
      expect(html.body).toContain("<html>")

      // Without a Schema, a non-JSON body is returned as text.
      expect(yield* api.get("/html")).toBe("<html>maintenance</html>")
    }).pipe(withRoutes([
      MockHttp.get("/v1/projects/:id", MockHttp.json(200, { id: "p_1", name: 42 })),
      MockHttp.get("/v1/html", MockHttp.text(200, "<html>maintenance</html>", { "content-type": "text/html" }))
    ])))

  it.effect("fails with ResponseTooLarge past maxResponseBytes, by Content-Length or while streaming", () =>
    Effect.gen(function*() {
      const api = yield* client({ maxResponseBytes: 1024 })
      const declared = yield* failure(api.get("/declared"))
      assertTag(declared, "ResponseTooLarge")
      expect(declared.limit).toBe(1024)
      const chunked = yield* failure(api.get("/chunked"))
      assertTag(chunked, "ResponseTooLarge")
      // At the limit is fine.
      expect(((yield* api.get("/exact")) as string).length).toBe(1024)
    }).pipe(withRoutes([
      MockHttp.get("/v1/declared", MockHttp.text(200, "x".repeat(5000), { "content-length": "5000" })),
      MockHttp.get("/v1/chunked", MockHttp.text(200, new Uint8Array(5000).fill(120))),
      MockHttp.get("/v1/exact", MockHttp.text(200, "y".repeat(1024)))
    ])))

  it.effect("fills {name} placeholders with hyphens, dots and digits, and :name at a segment start", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const params = { "enterprise-team": "core team", "repo.name": "a/b", v2: 7, id: "p_1", name: "ops/1" }
      yield* api.get("/teams/{enterprise-team}/repos/{repo.name}/{v2}", { params })
      yield* api.get("/projects/:id", { params })
      yield* api.post("/operations/{name}:cancel", { params })
      const sent = (yield* MockHttp.requests).map((r) => r.url.href)
      expect(sent).toEqual([
        "https://api.example.com/v1/teams/core%20team/repos/a%2Fb/7",
        "https://api.example.com/v1/projects/p_1",
        "https://api.example.com/v1/operations/ops%2F1:cancel"
      ])
    }).pipe(withRoutes([
      MockHttp.get("/v1/teams/:team/repos/:repo/:v", MockHttp.json(200, {})),
      MockHttp.get("/v1/projects/:id", MockHttp.json(200, {})),
      MockHttp.post("/v1/operations/:op", MockHttp.json(200, {}))
    ])))

  it.effect("rejects bad base URLs, paths and bodies with InvalidRequest before sending anything", () =>
    Effect.gen(function*() {
      const reasons: Array<string> = []
      for (const baseUrl of ["not a url", "ftp://files.example.com", "https://api.example.com/v1?key=s3cr3t"]) {
        const error = yield* failure(ApiClient.make({ baseUrl }))
        reasons.push(error.reason)
        expect(error.message).not.toContain("s3cr3t")
      }
      expect(reasons).toEqual(["InvalidBaseUrl", "InvalidBaseUrl", "InvalidBaseUrl"])

      const api = yield* client()
      const tag = (e: ApiError.ApiError) => e._tag === "InvalidRequest" ? e.reason : e._tag
      expect(tag(yield* failure(api.get("/projects/:id")))).toBe("MissingPathParam")
      expect(tag(yield* failure(api.get("/projects/:id", { params: { id: ".." } })))).toBe("InvalidPath")
      expect(tag(yield* failure(api.get("/teams/{enterprise-team}/memberships")))).toBe("MissingPathParam")
      expect(tag(yield* failure(api.get("/teams/{team", { params: { team: "x" } })))).toBe("InvalidPath")
      expect(tag(yield* failure(api.get("/with space")))).toBe("InvalidPath")
      expect(tag(yield* failure(api.get("https://evil.example.org/steal")))).toBe("CrossOrigin")
      expect(tag(yield* failure(api.post("/projects", { body: { name: "" }, bodySchema: NewProject })))).toBe(
        "InvalidBody"
      )
      expect(tag(yield* failure(api.post("/projects", { body: { n: BigInt(1) } })))).toBe("InvalidBody")
      // Same-origin absolute URLs (pagination links) are fine.
      expect(yield* api.get("https://api.example.com/v1/projects?page=2")).toEqual([])
      expect(yield* MockHttp.count()).toBe(1)
    }).pipe(withRoutes([MockHttp.get("/v1/projects", MockHttp.json(200, []))])))

  it.effect("makes one idempotency key per logical call and reuses it on every attempt", () =>
    Effect.gen(function*() {
      // A minimal retry policy, enough to replay the same request three times.
      const retryThrice = Policy.make("retry", "retry-thrice", (next) => (request, context) => {
        const attempt = (n: number): ReturnType<Policy.Send> =>
          Effect.catchAll(next(request, { ...context, attempt: n }), (e) => n < 3 ? attempt(n + 1) : Effect.fail(e))
        return attempt(1)
      })
      const api = yield* client({ retry: retryThrice })
      yield* api.post("/projects", { body: { name: "a" }, idempotencyKey: true })
      yield* api.post("/projects", { body: { name: "b" }, idempotencyKey: true })
      yield* api.post("/projects", { body: { name: "c" }, idempotencyKey: "mine-1" })
      const keys = (yield* MockHttp.requests).map((r) => r.headers["idempotency-key"])
      expect(keys).toHaveLength(9)
      expect(new Set(keys.slice(0, 3)).size).toBe(1)
      expect(new Set(keys.slice(3, 6)).size).toBe(1)
      expect(keys[0]).not.toBe(keys[3])
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)
      expect(keys.slice(6)).toEqual(["mine-1", "mine-1", "mine-1"])
    }).pipe(withRoutes([
      MockHttp.post(
        "/v1/projects",
        MockHttp.sequence(
          MockHttp.status(503),
          MockHttp.status(503),
          MockHttp.json(201, {}),
          MockHttp.status(503),
          MockHttp.status(503),
          MockHttp.json(201, {}),
          MockHttp.status(503),
          MockHttp.status(503),
          MockHttp.json(201, {})
        )
      )
    ])))

  it.effect("marks POST idempotent only with a key, and passes the context to policies", () =>
    Effect.gen(function*() {
      const seen: Array<Policy.CallContext> = []
      const spy = Policy.make("retry", "spy", (next) => (request, context) => {
        seen.push(context)
        return next(request, context)
      })
      const api = yield* client({ retry: spy, name: "example", timeout: { attempt: "2 seconds", total: "10 seconds" } })
      yield* api.post("/projects", { body: {} })
      yield* api.post("/projects", { body: {}, idempotencyKey: true, cost: 3 })
      yield* api.get("/projects/:id", { params: { id: "p_1" }, timeout: { attempt: "1 second" } })
      expect(seen.map((c) => c.idempotent)).toEqual([false, true, true])
      expect(seen[1]!.cost).toBe(3)
      expect(seen[2]!.route).toBe("/projects/:id")
      expect(seen[2]!.client).toBe("example")
      expect(Duration.toMillis(seen[2]!.attemptTimeout!)).toBe(1000)
      expect(seen[0]!.deadline).toBe(10_000)
    }).pipe(withRoutes([
      MockHttp.post("/v1/projects", MockHttp.json(201, {})),
      MockHttp.get("/v1/projects/:id", MockHttp.json(200, {}))
    ])))

  it.effect("times out an attempt on the Effect clock", () =>
    Effect.gen(function*() {
      const api = yield* client({ timeout: { attempt: "5 seconds" } })
      const error = yield* timedOutAt(api.get("/slow"), 5000)
      expect(error.reason).toBe("Attempt")
    }).pipe(withRoutes([MockHttp.get("/v1/slow", MockHttp.hang)])))

  // Retries everything, and makes no deadline promise: ApiClient keeps a watcher fiber.
  const retryForever = Policy.make("retry", "retry-forever", (next) => (request, context) => {
    const attempt = (n: number): ReturnType<Policy.Send> =>
      Effect.catchAll(next(request, { ...context, attempt: n }), () => attempt(n + 1))
    return attempt(1)
  })
  // Retries attempt timeouts for as long as the deadline allows, and says so: no watcher.
  const retryWithin = Policy.make("retry", "retry-within", (next) => (request, context) => {
    const attempt = (n: number): ReturnType<Policy.Send> =>
      Effect.catchIf(
        next(request, { ...context, attempt: n }),
        (e) => e._tag === "Timeout" && e.reason === "Attempt",
        () => attempt(n + 1)
      )
    return attempt(1)
  }, { honorsDeadline: true })

  for (
    const [how, retry] of [
      ["by a watcher fiber (a policy without the promise)", retryForever],
      ["cooperatively, clamping the last attempt (policies that honour it)", retryWithin]
    ] as const
  ) {
    it.effect(`bounds the whole call with the total deadline across attempts, ${how}`, () =>
      Effect.gen(function*() {
        const api = yield* client({ retry, timeout: { attempt: "2 seconds", total: "5 seconds" } })
        const error = yield* timedOutAt(api.get("/slow"), 5000)
        expect(error.reason).toBe("Deadline")
        // Attempts at 0 s, 2 s and 4 s; the third is cut by the deadline.
        expect(yield* MockHttp.count()).toBe(3)
      }).pipe(withRoutes([MockHttp.get("/v1/slow", MockHttp.delay("3 seconds", MockHttp.json(200, {})))])))
  }

  it.effect("trusts the promise: a policy that claims to honour the deadline is not cut off by a watcher", () =>
    Effect.gen(function*() {
      // A broken policy (it sleeps past the deadline while claiming not to) shows which mechanism
      // runs: the transport refuses to start an attempt after the deadline, nothing interrupts the sleep.
      const late = Policy.make(
        "retry",
        "late",
        (next) => (request, context) => Effect.zipRight(Effect.sleep("10 seconds"), next(request, context)),
        { honorsDeadline: true }
      )
      const api = yield* client({ retry: late, timeout: { total: "5 seconds" } })
      const fiber = yield* Effect.fork(failure(api.get("/projects")))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(fiber)
      assertTag(error, "Timeout")
      expect(error.reason).toBe("Deadline")
      expect(yield* MockHttp.count()).toBe(0)
    }).pipe(withRoutes([MockHttp.get("/v1/projects", MockHttp.json(200, {}))])))

  it.effect("records spans only when a tracer that exports them is installed (tracing is opt-in)", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const spy = Policy.make("retry", "spy", (next) => (request, context) =>
        Effect.zipRight(
          Effect.map(Effect.option(Effect.currentSpan), (span) =>
            void seen.push(span._tag === "Some" ? span.value.name : "none")),
          next(request, context)
        ))
      const api = yield* client({ retry: spy })
      // Effect's default tracer keeps spans where nobody reads them: no span, no per-call cost.
      yield* api.get("/projects")
      // Any other tracer (here Capture's; in production OpenTelemetry) gets apikit.call and apikit.attempt.
      yield* api.get("/projects").pipe(Effect.provide(Capture.layer))
      expect(seen).toEqual(["none", "apikit.call"])
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.get("/v1/projects", MockHttp.json(200, {}))]))))

  it.effect.prop(
    "builds the same URL as the URL parser, with or without the parse (any path of URL-safe characters)",
    [
      FastCheck.array(FastCheck.constantFrom(..."aZ09-._~!$&'()*+,;=:@%/".split("")), { maxLength: 16 })
        .map((cs) => cs.join(""))
        // `:name` is a path parameter, not text.
        .filter((path) => !/:[A-Za-z_]/.test(path)),
      FastCheck.constantFrom("https://api.example.com", "https://api.example.com:8443/v1", "http://127.0.0.1:1/a/b/")
    ],
    ([path, baseUrl]) =>
      Effect.gen(function*() {
        let sent = ""
        const spy = Policy.make("auth", "spy", (next) => (request, context) => {
          sent = request.url
          return next(request, context)
        })
        const api = yield* ApiClient.make({ baseUrl, auth: spy })
        yield* api.get(path)
        const base = new URL(baseUrl)
        const joined = `${base.origin}${base.pathname.replace(/\/+$/, "")}${path.startsWith("/") ? path : "/" + path}`
        expect(sent).toBe(new URL(joined).href)
      }).pipe(Effect.provide(MockHttp.layer([MockHttp.get("*", MockHttp.json(200, {}))])))
  )

  it.effect("never puts a secret in logs, spans or errors", () =>
    Effect.gen(function*() {
      const secret = "sk_live_SENTINEL_51HxYz"
      const api = yield* client({ headers: { authorization: Redacted.make(`Bearer ${secret}`) } })
      const error = yield* failure(
        api.get("/projects", { query: { api_key: secret, page: 2 }, headers: { "x-api-key": Redacted.make(secret) } })
      )
      assertTag(error, "Unauthorized")
      // The server did receive the credentials: they are revealed on the wire only.
      const [sent] = yield* MockHttp.requests
      expect(sent!.headers["authorization"]).toBe(`Bearer ${secret}`)
      expect(sent!.url.searchParams.get("api_key")).toBe(secret)

      expect(error.url).toBe("https://api.example.com/v1/projects?api_key=<redacted>&page=2")
      const everything = [
        error.message,
        JSON.stringify(error),
        String(error),
        JSON.stringify(Schema.encodeSync(ApiError.ApiError)(error))
      ].join("\n")
      expect(everything).not.toContain(secret)

      const capture = yield* Capture.Capture
      expect(capture.logs.some((l) => l.message === "apikit attempt" || String(l.message).includes("apikit attempt")))
        .toBe(true)
      expect(capture.spans.map((s) => [s.name, s.parent])).toEqual([["apikit.call", undefined], [
        "apikit.attempt",
        "apikit.call"
      ]])
      const call = capture.spans.find((s) => s.name === "apikit.call")!
      expect(call.attributes.get("http.route")).toBe("/projects")
      const attempt = capture.spans.find((s) => s.name === "apikit.attempt")!
      expect(attempt.attributes.get("http.response.status_code")).toBe(401)
      expect(capture.dump()).not.toContain(secret)
    }).pipe(withRoutes([
      // The server echoes the secret back in its error body and challenge, as some do.
      MockHttp.get(
        "/v1/projects",
        (req) =>
          MockHttp.json(401, {
            error: "invalid api_key",
            api_key: req.url.searchParams.get("api_key"),
            access_token: "sk_live_SENTINEL_51HxYz",
            seen: req.headers["authorization"]
          }, { "www-authenticate": "Bearer error=\"invalid_token\", token=\"sk_live_SENTINEL_51HxYz\"" })
      )
    ])))

  it.effect("records one span per call and one per attempt, and a debug line per attempt", () =>
    Effect.gen(function*() {
      const twice = Policy.make(
        "retry",
        "twice",
        (next) => (request, context) =>
          Effect.catchAll(next(request, context), () => next(request, { ...context, attempt: 2 }))
      )
      const api = yield* client({ retry: twice })
      yield* api.get("/flaky")
      const capture = yield* Capture.Capture
      expect(capture.spans.map((s) => [s.name, s.attributes.get("apikit.attempt")])).toEqual([
        ["apikit.call", undefined],
        ["apikit.attempt", 1],
        ["apikit.attempt", 2]
      ])
      const lines = capture.logs.filter((l) => l.level === "DEBUG")
      expect(lines.map((l) => [l.annotations["attempt"], l.annotations["status"]])).toEqual([[1, 503], [2, 200]])
      expect(lines.every((l) => typeof l.annotations["durationMs"] === "number")).toBe(true)
    }).pipe(withRoutes([MockHttp.get("/v1/flaky", MockHttp.sequence(MockHttp.status(503), MockHttp.json(200, {})))])))

  it.effect("errors round-trip through the ApiError Schema", () =>
    Effect.gen(function*() {
      const api = yield* client()
      const error = yield* failure(api.get("/limited"))
      const decoded = Schema.decodeUnknownEither(ApiError.ApiError)(Schema.encodeSync(ApiError.ApiError)(error))
      expect(Either.isRight(decoded)).toBe(true)
      expect(ApiError.isApiError(error)).toBe(true)
      expect(Duration.toMillis(ApiError.retryAfterOf(error)!)).toBe(3000)
    }).pipe(withRoutes([MockHttp.get("/v1/limited", MockHttp.status(429, { "retry-after": "3" }))])))
})

function assertTag<T extends ApiError.ApiError["_tag"]>(
  error: ApiError.ApiError,
  tag: T
): asserts error is Extract<ApiError.ApiError, { _tag: T }> {
  expect(error._tag).toBe(tag)
}
