import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Layer, TestClock } from "effect"
import { main, program, Projects } from "../testing-with-layers.js"

// The swap: an in-memory HttpClient and a fixed Config instead of a server and the environment.
const testLayers = Layer.mergeAll(
  MockHttp.layer([
    MockHttp.post(
      "https://projects.test/v1/projects",
      MockHttp.sequence(MockHttp.status(503), MockHttp.json(201, { id: "prj_42", name: "Apollo" }))
    )
  ]),
  Layer.setConfigProvider(ConfigProvider.fromMap(
    new Map([["PROJECTS_API_URL", "https://projects.test/v1"], ["PROJECTS_API_KEY", "test-key"]])
  ))
)

describe("examples/testing-with-layers", () => {
  it.effect("the same program over MockHttp and the TestClock: a 503, one second of backoff, a 201", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(program)
      yield* TestClock.adjust("999 millis")
      expect(yield* MockHttp.count()).toBe(1) // the retry waits its full second of virtual time
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe("created prj_42 Apollo")

      const sent = yield* MockHttp.requests
      expect(sent.map((r) => [r.method, r.url.pathname, r.json])).toEqual([
        ["POST", "/v1/projects", { name: "Apollo" }],
        ["POST", "/v1/projects", { name: "Apollo" }]
      ])
      // Retried with the same idempotency key, and the key from Config on the wire.
      expect(sent[0]!.headers["idempotency-key"]).toBeDefined()
      expect(sent[1]!.headers["idempotency-key"]).toBe(sent[0]!.headers["idempotency-key"])
      expect(sent[0]!.headers["x-api-key"]).toBe("test-key")
    }).pipe(Effect.provide(Projects.layer), Effect.provide(testLayers)))

  it.live("main runs it against the Sandbox over a real socket", () =>
    Effect.gen(function*() {
      expect(yield* main).toBe("created prj_1 Apollo")
    }))
})
