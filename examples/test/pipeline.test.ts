/**
 * One integration with every policy on (OAuth2 client credentials, adaptive
 * rate limit, circuit breaker, transient retry, attempt and total timeouts),
 * driven through a scripted fault sequence over MockHttp on the TestClock. It
 * pins the exact attempts, their virtual times, the breaker's transitions and
 * the final typed result: the documented pipeline order, observed.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Either, Fiber, Layer, Redacted, Schema, Stream, TestClock } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

/**
 * MockHttp routes for a token endpoint and one API route playing `script`, and
 * the timeline of requests: virtual time, method, path and bearer token.
 */
const setup = (script: ReadonlyArray<MockHttp.Reply>) => {
  const timeline: Array<string> = []
  let step = 0
  const stamp = (reply: MockHttp.Reply) => (req: MockHttp.MockRequest) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const auth = req.headers["authorization"]?.startsWith("Bearer ") ? req.headers["authorization"].slice(7) : "-"
      timeline.push(`${now} ${req.method} ${req.url.pathname} ${auth}`)
      return reply
    })
  const routes = [
    MockHttp.post(
      "https://auth.example.com/oauth/token",
      stamp(MockHttp.json(200, { access_token: "tok-1", token_type: "Bearer", expires_in: 3600 }))
    ),
    MockHttp.get("/v1/projects/:id", (req) => stamp(script[Math.min(step++, script.length - 1)]!)(req))
  ]
  const layer = Layer.mergeAll(
    MockHttp.layer(routes),
    RateLimit.layerMemory,
    CircuitBreakerStore.layerMemory,
    TokenStore.layerMemory
  )
  return { timeline, layer }
}

/** The integration under test: every slot filled. */
const integration = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    return yield* ApiClient.make({
      baseUrl: "https://api.example.com/v1",
      name: "projects",
      auth: yield* OAuth2.clientCredentials({
        tokenUrl: "https://auth.example.com/oauth/token",
        clientId: "app",
        clientSecret: Redacted.make("s3cret")
      }),
      rateLimit: yield* RateLimit.make({ limit: 10, window: "1 second", adaptive: true }),
      circuitBreaker: breaker,
      retry: Retry.transient({ times: 5, base: "100 millis", factor: 2, jitter: "none", cap: "5 seconds" }),
      timeout: { attempt: "2 seconds", total: "60 seconds" }
    })
  })

/** Advances virtual time in small steps so every timer fires at its own instant. */
const run = <A, E>(call: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.either(call))
    for (let i = 0; i < 200; i++) yield* TestClock.adjust("100 millis")
    return yield* Fiber.join(fiber)
  })

describe("the full pipeline, end to end", () => {
  it.scoped("timeouts, 503s, an open circuit, a 429 with Retry-After, then recovery", () => {
    const { layer, timeline } = setup([
      MockHttp.hang, // no answer; the 2 s attempt timeout ends it (breaker failure 1)
      MockHttp.status(503), // breaker failure 2: consecutive(2) opens the circuit for 1 s
      MockHttp.status(429, { "retry-after": "3" }), // the half-open probe is told to wait 3 s (ignored by the breaker)
      MockHttp.json(200, { id: "p_1", name: "Apollo" }) // recovery: the probe succeeds, the circuit closes
    ])
    return Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), openDuration: "1 second" })
      const transitions = yield* breaker.subscribe
      const api = yield* integration(breaker)
      const result = yield* run(api.get("/projects/:id", { params: { id: "p_1" }, success: Project }))
      expect(result).toEqual(Either.right({ id: "p_1", name: "Apollo" }))

      // One token request, then four attempts. Backoff 100 ms, 200 ms, 400 ms... with Retry-After
      // and CircuitOpen's retryAfter as floors:
      expect(timeline).toEqual([
        "0 POST /oauth/token -", // the token, once, shared by every attempt
        "0 GET /v1/projects/p_1 tok-1", // hangs: Timeout{Attempt} at 2000
        "2100 GET /v1/projects/p_1 tok-1", // +100 ms backoff: 503, the second failure opens the circuit
        // 2300 (+200 ms): the breaker rejects with CircuitOpen{retryAfter: 800 ms}; nothing is sent,
        // and retry waits out the open circuit since it fits the deadline.
        "3100 GET /v1/projects/p_1 tok-1", // the half-open probe: 429 Retry-After 3 (the breaker ignores 429s)
        "6100 GET /v1/projects/p_1 tok-1" // Retry-After is a floor: +3 s, not the 800 ms backoff; 200, closed
      ])
      const changes = Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(transitions, 3)))
      expect(changes.map((t) => `${t.at} ${t.from}->${t.to} ${t.reason}`)).toEqual([
        "2100 Closed->Open Tripped",
        "3100 Open->HalfOpen OpenElapsed",
        "6100 HalfOpen->Closed ProbesSucceeded"
      ])
    }).pipe(Effect.provide(layer))
  })

  it.scoped("a dependency that stays down: the circuit opens and the call fails fast with CircuitOpen", () => {
    const { layer, timeline } = setup([MockHttp.status(503)])
    return Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2), openDuration: "10 seconds" })
      const api = yield* integration(breaker)
      const result = yield* run(api.get("/projects/:id", { params: { id: "p_1" }, success: Project }))
      // The circuit's 10 s exceed the retry cap (5 s): waiting would be pointless, so the call
      // ends with the breaker's typed error instead of sleeping.
      expect(Either.isLeft(result) && result.left._tag).toBe("CircuitOpen")
      expect(Either.isLeft(result) && result.left._tag === "CircuitOpen" && result.left.key).toBe("projects")
      expect(timeline).toEqual([
        "0 POST /oauth/token -",
        "0 GET /v1/projects/p_1 tok-1",
        "100 GET /v1/projects/p_1 tok-1"
      ])
    }).pipe(Effect.provide(layer))
  })

  it.scoped("the replay after a 401 refresh takes a rate-limit permit and is seen by the breaker", () => {
    const tokens: Array<string> = []
    const timeline: Array<string> = []
    let issued = 0
    let step = 0
    const script = [MockHttp.status(401), MockHttp.status(503)]
    const routes = [
      MockHttp.post("https://auth.example.com/oauth/token", () => {
        tokens.push(`tok-${++issued}`)
        return Effect.succeed(
          MockHttp.json(200, { access_token: `tok-${issued}`, token_type: "Bearer", expires_in: 3600 })
        )
      }),
      MockHttp.get("/v1/projects/:id", (req) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          timeline.push(`${now} ${req.headers["authorization"]}`)
          return script[Math.min(step++, script.length - 1)]!
        }))
    ]
    const seen: Array<string> = []
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.example.com/v1",
        auth: yield* OAuth2.clientCredentials({
          tokenUrl: "https://auth.example.com/oauth/token",
          clientId: "app",
          clientSecret: Redacted.make("s3cret")
        }),
        // One permit per second: the replay has to wait for the next one.
        rateLimit: yield* RateLimit.make({ limit: 1, window: "1 second" }),
        circuitBreaker: yield* CircuitBreaker.make({
          trip: CircuitBreaker.consecutive(2),
          classify: (error) => {
            seen.push((error as { _tag: string })._tag)
            return CircuitBreaker.defaultClassify(error)
          }
        })
      })
      const result = yield* run(api.get("/projects/:id", { params: { id: "p_1" }, success: Project }))
      expect(Either.isLeft(result) && result.left._tag).toBe("ServerError")
      expect(tokens).toEqual(["tok-1", "tok-2"])
      // The replay carries the renewed token and waits for its own permit.
      expect(timeline).toEqual(["0 Bearer tok-1", "1000 Bearer tok-2"])
      // The breaker recorded both attempts, the 401 and the replay's 503.
      expect(seen).toEqual(["Unauthorized", "ServerError"])
    }).pipe(Effect.provide(Layer.mergeAll(
      MockHttp.layer(routes),
      RateLimit.layerMemory,
      CircuitBreakerStore.layerMemory,
      TokenStore.layerMemory
    )))
  })
})
