import { MockHttp } from "@apikit/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, TestClock } from "effect"

const send = (method: "GET" | "POST", url: string, body?: unknown) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => {
    const request = HttpClientRequest.make(method)(url)
    return client.execute(body === undefined ? request : HttpClientRequest.bodyUnsafeJson(request, body))
  })

describe("MockHttp", () => {
  it.effect("routes by method and pattern, with params and JSON bodies", () =>
    Effect.gen(function*() {
      const res = yield* send("GET", "https://x.test/v1/projects/p%2F1")
      expect(res.status).toBe(200)
      expect(yield* res.json).toEqual({ id: "p/1" })
      const created = yield* send("POST", "https://x.test/v1/projects", { name: "n" })
      expect(created.status).toBe(201)
      expect(yield* created.json).toEqual({ name: "n" })
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/projects/:id", (req) => MockHttp.json(200, { id: req.params.id })),
      MockHttp.post("/v1/projects", (req) => Effect.succeed(MockHttp.json(201, req.json)))
    ]))))

  it.effect("plays sequences in order and repeats the last reply; each layer starts afresh", () => {
    const routes = [
      MockHttp.get("/s", MockHttp.sequence(MockHttp.status(503), MockHttp.status(502), MockHttp.status(200)))
    ]
    const statuses = Effect.forEach([1, 2, 3, 4], () => Effect.map(send("GET", "https://x.test/s"), (r) => r.status))
    return Effect.gen(function*() {
      expect(yield* statuses.pipe(Effect.provide(MockHttp.layer(routes)))).toEqual([503, 502, 200, 200])
      expect(yield* statuses.pipe(Effect.provide(MockHttp.layer(routes)))).toEqual([503, 502, 200, 200])
    })
  })

  it.effect("injects transport errors with their code", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(send("GET", "https://x.test/down"))
      expect(error._tag).toBe("RequestError")
      expect((error.cause as { code: string }).code).toBe("ECONNREFUSED")
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.get("/down", MockHttp.transportError("ECONNREFUSED"))]))))

  it.effect("delays on the Effect clock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(send("GET", "https://x.test/slow"))
      yield* TestClock.adjust("9 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const res = yield* Fiber.join(fiber)
      expect(res.status).toBe(200)
    }).pipe(
      Effect.provide(MockHttp.layer([MockHttp.get("/slow", MockHttp.delay("10 seconds", MockHttp.status(200)))]))
    ))

  it.effect("records what was sent, with counts by method and route", () =>
    Effect.gen(function*() {
      yield* send("GET", "https://x.test/a?x=1")
      yield* send("POST", "https://x.test/a", { k: 1 })
      yield* send("GET", "https://other.test/b")
      const all = yield* MockHttp.requests
      expect(all.map((r) => `${r.method} ${r.url.href}`)).toEqual([
        "GET https://x.test/a?x=1",
        "POST https://x.test/a",
        "GET https://other.test/b"
      ])
      expect(all[1]!.json).toEqual({ k: 1 })
      expect(yield* MockHttp.count({ method: "GET" })).toBe(2)
      expect(yield* MockHttp.count({ route: "https://other.test/b" })).toBe(1)
      yield* Effect.flatMap(MockHttp.MockHttp, (m) => m.clear)
      expect(yield* MockHttp.count()).toBe(0)
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.route("*", "/a", MockHttp.status(200)),
      MockHttp.get("https://other.test/b", MockHttp.status(200))
    ]))))

  it.effect("a request that matches no route is a defect naming the routes", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(send("GET", "https://x.test/missing"))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        "no route matches GET https://x.test/missing. Routes: POST /a"
      )
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.post("/a", MockHttp.status(200))]))))
})
