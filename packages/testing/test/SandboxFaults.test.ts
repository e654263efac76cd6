import { ApiClient } from "@apikit/http"
import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"

const key = Sandbox.defaultClient.apiKey

const api = (timeout?: Duration.DurationInput) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    return yield* ApiClient.make({
      baseUrl: `${sandbox.baseUrl}/v1`,
      headers: { "x-api-key": Redacted.make(key) },
      ...(timeout === undefined ? {} : { timeout: { attempt: timeout } })
    })
  })

const status = (path: string, init: { method?: "GET" | "PUT"; body?: string } = {}) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(init.method ?? "GET")(sandbox.baseUrl + path).pipe(
      HttpClientRequest.setHeader("x-api-key", key)
    )
    if (init.body !== undefined) request = HttpClientRequest.bodyText(request, init.body)
    const response = yield* client.execute(request)
    return response.status
  }).pipe(Effect.scoped, Effect.orDie)

const stats = Effect.flatMap(Sandbox.Sandbox, (s) => s.stats)

/** Waits (bounded) for the server to reach a state over real sockets; never asserts on elapsed time. */
const until = (check: (s: Sandbox.Stats) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      if (check(yield* stats)) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.die("the sandbox never reached the expected state")
  })

const withSandbox = (options: Sandbox.Options = {}) =>
  Effect.provide(Layer.mergeAll(Sandbox.layer(options), NodeHttpClient.layerUndici))

describe("Sandbox faults", () => {
  it.effect("5xx faults arrive as ServerError", () =>
    Effect.gen(function*() {
      const client = yield* api()
      for (let i = 0; i < 3; i++) {
        const error = yield* Effect.flip(client.get("/projects"))
        expect(error._tag).toBe("ServerError")
      }
      expect((yield* stats).faults.errors).toBe(3)
    }).pipe(withSandbox({ faults: { errorRate: 1 } })))

  it.effect("connection resets arrive as Transport errors; a reset after processing still took effect", () =>
    Effect.gen(function*() {
      const client = yield* api()
      const before = yield* Effect.flip(client.post("/projects", { body: { name: "Apollo" }, idempotencyKey: "k-1" }))
      expect(before._tag).toBe("Transport")
      expect(before._tag === "Transport" && before.reason).toBe("ConnectionReset")
      expect((yield* stats).projectsCreated).toBe(0)

      const sandbox = yield* Sandbox.Sandbox
      yield* sandbox.setFaults({ resetRate: 1, resetAfterProcessing: 1 })
      const after = yield* Effect.flip(client.post("/projects", { body: { name: "Apollo" }, idempotencyKey: "k-1" }))
      expect(after._tag).toBe("Transport")
      expect((yield* stats).projectsCreated).toBe(1)

      // The retry with the same key gets the original response instead of a second project.
      yield* sandbox.setFaults({})
      const retried = yield* client.exchange("POST", "/projects", { body: { name: "Apollo" }, idempotencyKey: "k-1" })
      expect(retried.status).toBe(201)
      expect(retried.headers["idempotent-replayed"]).toBe("true")
      const s = yield* stats
      expect(s.projectsCreated).toBe(1)
      expect(s.duplicates).toBe(0)
      expect(s.faults.resets).toBe(2)
    }).pipe(withSandbox({ faults: { resetRate: 1, resetAfterProcessing: 0 } })))

  it.effect("hangs last until the client's attempt timeout gives up", () =>
    Effect.gen(function*() {
      const client = yield* api("5 seconds")
      const fiber = yield* Effect.fork(Effect.flip(client.get("/projects")))
      yield* until((s) => s.faults.hangs === 1)
      yield* TestClock.adjust("4 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("Timeout")
      // The sandbox keeps serving after the client gave up.
      yield* (yield* Sandbox.Sandbox).setFaults({})
      expect(yield* status("/v1/projects")).toBe(200)
    }).pipe(withSandbox({ faults: { hangRate: 1 } })))

  it.effect("latency delays responses on the sandbox's Clock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(status("/v1/projects"))
      yield* until((s) => s.faults.delayed === 1)
      yield* TestClock.adjust("299 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe(200)
    }).pipe(withSandbox({ faults: { latency: "300 millis" } })))

  it.effect("a 429 burst rejects the next requests of every client, then ends", () =>
    Effect.gen(function*() {
      const client = yield* api()
      const error = yield* Effect.flip(client.get("/projects"))
      expect(error._tag).toBe("RateLimited")
      expect(error._tag === "RateLimited" && error.retryAfter && Duration.toMillis(error.retryAfter)).toBe(1000)
      yield* (yield* Sandbox.Sandbox).setFaults({})
      expect(yield* status("/v1/projects")).toBe(429)
      expect(yield* status("/v1/projects")).toBe(429)
      expect(yield* status("/v1/projects")).toBe(200)
      const s = yield* stats
      expect(s.faults.bursts).toBe(1)
      expect(s.rateLimited).toBe(3)
    }).pipe(withSandbox({ faults: { burstRate: 1, burstLength: 3 } })))

  it.effect("faults apply to the token endpoint too, never to /_stats", () =>
    Effect.gen(function*() {
      expect(yield* status("/_stats")).toBe(200)
      const sandbox = yield* Sandbox.Sandbox
      const client = yield* HttpClient.HttpClient
      const response = yield* client.post(`${sandbox.baseUrl}/oauth/token`).pipe(Effect.scoped)
      expect([500, 502, 503]).toContain(response.status)
    }).pipe(withSandbox({ faults: { errorRate: 1 } })))

  it.effect("a seed makes fault sequences reproducible", () =>
    Effect.gen(function*() {
      const run = (seed: number) =>
        Effect.gen(function*() {
          const out: Array<number> = []
          for (let i = 0; i < 40; i++) out.push(yield* status("/v1/projects"))
          return out
        }).pipe(withSandbox({ seed, faults: { errorRate: 0.3, burstRate: 0.05, burstLength: 2 } }))
      const a = yield* run(7)
      const b = yield* run(7)
      expect(a).toEqual(b)
      expect(a.some((s) => s >= 500)).toBe(true)
      expect(a.some((s) => s === 200)).toBe(true)
    }))

  it.effect("faults change at runtime: setFaults and PUT /_faults", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      expect(yield* status("/v1/projects")).toBe(200)
      yield* sandbox.setFaults({ errorRate: 1 })
      expect(yield* status("/v1/projects")).toBeGreaterThanOrEqual(500)
      expect(yield* status("/_faults", { method: "PUT", body: "none" })).toBe(204)
      expect(yield* status("/v1/projects")).toBe(200)
      expect(yield* status("/_faults", { method: "PUT", body: "5xx=2" })).toBe(422)
      const invalid = yield* Effect.flip(sandbox.setFaults({ errorRate: 0.6, resetRate: 0.6 }))
      expect(invalid.message).toContain("add up to 1.2")
    }).pipe(withSandbox()))
})

describe("Sandbox under concurrency", () => {
  it.effect("200 concurrent idempotent creates under resets, 5xx and bursts create each project exactly once", () =>
    Effect.gen(function*() {
      const client = yield* api()
      const transient = (e: { readonly _tag: string }) =>
        e._tag === "Transport" || e._tag === "ServerError" || e._tag === "RateLimited"
      const outcomes = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) =>
          client.post("/projects", { body: { name: `project-${i}` }, idempotencyKey: `key-${i}` }).pipe(
            Effect.retry({ while: transient, times: 50 }),
            Effect.either
          ),
        { concurrency: 50 }
      )
      expect(outcomes.filter((o) => o._tag === "Left")).toEqual([])
      const s = yield* stats
      expect(s.projectsCreated).toBe(200)
      expect(s.duplicates).toBe(0)
      expect(s.faults.resets).toBeGreaterThan(0)
      expect(s.faults.errors).toBeGreaterThan(0)
      expect(s.faults.bursts).toBeGreaterThan(0)
      // Resets after processing were answered by replays on retry.
      expect(s.idempotentReplays).toBeGreaterThan(0)
      expect(s.maxRequestRate["sandbox-client"]).toBe(s.requests)
    }).pipe(withSandbox({
      seed: 3,
      rateLimit: false,
      faults: { errorRate: 0.1, resetRate: 0.1, resetAfterProcessing: 0.5, burstRate: 0.01, burstLength: 2 }
    })))

  it.effect("the same Idempotency-Key sent concurrently creates one project", () =>
    Effect.gen(function*() {
      const client = yield* api()
      const results = yield* Effect.forEach(
        Array.from({ length: 30 }),
        () => client.exchange("POST", "/projects", { body: { name: "Apollo" }, idempotencyKey: "same" }),
        { concurrency: "unbounded" }
      )
      expect(new Set(results.map((r) => JSON.stringify(r.value))).size).toBe(1)
      expect(results.filter((r) => r.headers["idempotent-replayed"] === "true").length).toBe(29)
      const s = yield* stats
      expect([s.projectsCreated, s.idempotentReplays, s.duplicates]).toEqual([1, 29, 0])
    }).pipe(withSandbox({ rateLimit: false })))

  it.effect("stops cleanly while a request hangs; the client sees the connection go", () =>
    Effect.gen(function*() {
      const pending = yield* Effect.scoped(Effect.gen(function*() {
        const context = yield* Layer.build(Sandbox.layer({ faults: { hangRate: 1 } }))
        const request = status("/v1/projects").pipe(Effect.provide(context), Effect.sandbox, Effect.flip)
        const fiber = yield* Effect.fork(request)
        yield* until((s) => s.faults.hangs === 1).pipe(Effect.provide(context))
        return fiber
      }))
      const cause = yield* Fiber.join(pending)
      expect(String(cause)).toContain("Transport error")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})

describe("Sandbox.parseFaults", () => {
  it.effect("parses the --faults syntax", () =>
    Effect.gen(function*() {
      const faults = yield* Sandbox.parseFaults(
        "5xx=0.1, reset=0.02,reset-after=1,hang=0.01,burst=0.01,burst-length=3,latency=1.5s,latency-rate=0.5"
      )
      expect(faults).toMatchObject({
        errorRate: 0.1,
        resetRate: 0.02,
        resetAfterProcessing: 1,
        hangRate: 0.01,
        burstRate: 0.01,
        burstLength: 3,
        latencyRate: 0.5
      })
      const latency = (yield* Sandbox.parseFaults("latency=200ms")).latency
      expect(latency && Duration.toMillis(Duration.decode(latency))).toBe(200)
      expect(yield* Sandbox.parseFaults("")).toEqual({})
      expect(yield* Sandbox.parseFaults("none")).toEqual({})
    }))

  it.effect("refuses garbage with InvalidFaults", () =>
    Effect.gen(function*() {
      const unknown = yield* Effect.flip(Sandbox.parseFaults("chaos=1"))
      expect(unknown._tag).toBe("InvalidFaults")
      expect(unknown.message).toContain("unknown fault \"chaos=1\"")
      expect((yield* Effect.flip(Sandbox.parseFaults("5xx=lots"))).message).toContain("needs a number")
      expect((yield* Effect.flip(Sandbox.parseFaults("5xx=1.5"))).message).toContain("errorRate")
      expect((yield* Effect.flip(Sandbox.parseFaults("latency=soon"))).message).toContain("latency")
      expect((yield* Effect.flip(Sandbox.parseFaults("burst-length=0"))).message).toContain("burstLength")
      expect((yield* Effect.flip(Sandbox.parseFaults("5xx=0.7,hang=0.7"))).message).toContain("more than 1")
    }))
})
