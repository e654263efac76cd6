import { CircuitBreaker } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Metric, MetricLabel, Redacted, Stream, TestClock } from "effect"
import { withStore } from "./utils.js"

const secret = "sk_live_SENTINEL_4f9a"

const routes = [
  MockHttp.get(
    "/v1/flaky",
    MockHttp.sequence(MockHttp.status(503), MockHttp.status(502), MockHttp.status(500), MockHttp.json(200, { ok: 1 }))
  ),
  MockHttp.get("/v1/missing", MockHttp.json(404, { error: "nope" })),
  MockHttp.get("/v1/slow", MockHttp.delay("10 seconds", MockHttp.json(200, { ok: 1 })))
]

const withHttp = (self: Effect.Effect<void, unknown, any>) =>
  self.pipe(
    Effect.provide(Layer.mergeAll(MockHttp.layer(routes), Capture.layer)),
    withStore,
    Effect.scoped
  ) as Effect.Effect<void, unknown>

describe("in the ApiClient circuitBreaker slot", () => {
  it.effect("opens on 5xx, then fails fast without sending; probes after the open duration", () =>
    withHttp(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(3), openDuration: "20 seconds" })
      const events = yield* Effect.fork(Stream.runCollect(Stream.take(yield* breaker.subscribe, 3)))
      const api = yield* ApiClient.make({
        baseUrl: "https://api.example.com/v1",
        name: "example",
        headers: { authorization: Redacted.make(`Bearer ${secret}`) },
        circuitBreaker: breaker
      })
      const tags: Array<string> = []
      for (let i = 0; i < 5; i++) {
        tags.push((yield* Effect.flip(api.get("/flaky", { query: { api_key: secret } })))._tag)
      }
      expect(tags).toEqual(["ServerError", "ServerError", "ServerError", "CircuitOpen", "CircuitOpen"])
      expect(yield* MockHttp.count({ route: "/v1/flaky" })).toBe(3)

      const open = yield* Effect.flip(api.get("/flaky", { query: { api_key: secret } }))
      expect(open._tag).toBe("CircuitOpen")
      if (open._tag !== "CircuitOpen") return
      expect(open.key).toBe("example") // the client's name is the default key
      expect(open.method).toBe("GET")
      expect(open.url).toBe("https://api.example.com/v1/flaky?api_key=<redacted>")
      expect(Duration.toMillis(open.retryAfter)).toBe(20_000)

      yield* TestClock.adjust("20 seconds")
      expect(yield* api.get("/flaky")).toEqual({ ok: 1 })
      expect(yield* MockHttp.count({ route: "/v1/flaky" })).toBe(4)

      const transitions = Array.from(yield* Fiber.join(events))
      expect(transitions.map((t) => [t.from, t.to, t.reason])).toEqual([
        ["Closed", "Open", "Tripped"],
        ["Open", "HalfOpen", "OpenElapsed"],
        ["HalfOpen", "Closed", "ProbesSucceeded"]
      ])
      expect(transitions[0]).toMatchObject({ key: "example", openMillis: 20_000, detail: "3 consecutive failures" })
      expect(transitions.map((t) => t.at)).toEqual([0, 20_000, 20_000])

      // One log line per transition; nothing that was secret anywhere.
      const capture = yield* Capture.Capture
      const lines = capture.logs.filter((l) => l.annotations["circuit"] === "example")
      expect(lines.map((l) => [l.level, l.message])).toEqual([
        ["WARN", ["circuit breaker \"example\" Closed → Open"]],
        ["INFO", ["circuit breaker \"example\" Open → HalfOpen"]],
        ["INFO", ["circuit breaker \"example\" HalfOpen → Closed"]]
      ])
      expect(lines[0]!.annotations).toMatchObject({ reason: "Tripped", detail: "3 consecutive failures" })
      expect(capture.dump()).not.toContain(secret)
      expect(open.message).not.toContain(secret)
    })))

  it.effect("4xx answers prove the server is up and never open the circuit", () =>
    withHttp(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2) })
      const api = yield* ApiClient.make({ baseUrl: "https://api.example.com/v1", circuitBreaker: breaker })
      for (let i = 0; i < 5; i++) expect((yield* Effect.flip(api.get("/missing")))._tag).toBe("NotFound")
      expect((yield* breaker.state("api.example.com")).state).toBe("Closed")
      expect(yield* MockHttp.count()).toBe(5)
    })))

  it.effect("attempt timeouts count, and a probe's lease follows the attempt timeout", () =>
    withHttp(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ key: "slow", trip: CircuitBreaker.consecutive(1) })
      const api = yield* ApiClient.make({
        baseUrl: "https://api.example.com/v1",
        circuitBreaker: breaker,
        timeout: { attempt: "2 seconds" }
      })
      const first = yield* Effect.fork(Effect.flip(api.get("/slow")))
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(first))._tag).toBe("Timeout")
      expect((yield* breaker.state()).state).toBe("Open")
      yield* TestClock.adjust("30 seconds")
      const probe = yield* Effect.fork(Effect.flip(api.get("/slow")))
      yield* Effect.yieldNow()
      const rejected = yield* Effect.flip(api.get("/slow"))
      // The probe cannot take longer than its 2 s attempt timeout, so its slot frees within 3 s.
      expect(rejected._tag === "CircuitOpen" && Duration.toMillis(rejected.retryAfter)).toBe(3000)
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(probe))._tag).toBe("Timeout")
      expect((yield* breaker.state()).state).toBe("Open")
    })))

  it.effect("metrics: state gauge per key, calls by outcome, rejections", () =>
    withHttp(Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ key: "metrics-test", trip: CircuitBreaker.consecutive(2) })
      const api = yield* ApiClient.make({ baseUrl: "https://api.example.com/v1", circuitBreaker: breaker })
      yield* Effect.flip(api.get("/missing"))
      yield* Effect.flip(api.get("/flaky"))
      yield* Effect.flip(api.get("/flaky"))
      yield* Effect.flip(api.get("/flaky"))
      const key = MetricLabel.make("key", "metrics-test")
      const value = (metric: Metric.Metric<any, any, any>, ...labels: Array<MetricLabel.MetricLabel>) =>
        Metric.value(Metric.taggedWithLabels(metric, [key, ...labels]))
      const calls = CircuitBreaker.Metrics.calls
      expect((yield* value(calls, MetricLabel.make("outcome", "success"))).count).toBe(1)
      expect((yield* value(calls, MetricLabel.make("outcome", "failure"))).count).toBe(2)
      expect((yield* value(CircuitBreaker.Metrics.rejections)).count).toBe(1)
      expect((yield* value(CircuitBreaker.Metrics.state)).value).toBe(2)
      yield* breaker.isolate()
      expect((yield* value(CircuitBreaker.Metrics.state)).value).toBe(3)
      yield* breaker.reset()
      expect((yield* value(CircuitBreaker.Metrics.state)).value).toBe(0)
    })))
})
