/**
 * Timeouts on the live Clock, where ApiClient arms a plain timer instead of
 * racing fibers (TestClock runs take `Effect.timeoutFail`; see RealServer and
 * ApiClient tests). A server on 127.0.0.1 that never answers, and timeouts of a
 * few milliseconds: the assertions are on outcomes and closed sockets, never on
 * how long anything took.
 */
import { ApiClient, Policy } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber } from "effect"

/** A server that never answers; `closed` completes when the client drops its socket. */
const hanging = Effect.gen(function*() {
  const arrived = yield* Deferred.make<void>()
  const closed = yield* Deferred.make<void>()
  const baseUrl = yield* listen((req) => {
    Deferred.unsafeDone(arrived, Exit.void)
    req.socket.on("close", () => Deferred.unsafeDone(closed, Exit.void))
  })
  return { baseUrl, arrived, closed }
})

const transports = [
  ["the platform's NodeHttpClient", NodeHttpClient.layerUndici],
  ["apikit's lean UndiciHttpClient", UndiciHttpClient.layer]
] as const

describe.each(transports)("ApiClient timeouts on the live Clock with %s", (_name, transport) => {
  it.live("an attempt timeout fails with Timeout(Attempt) and aborts the socket", () =>
    Effect.scoped(Effect.gen(function*() {
      const { baseUrl, closed } = yield* hanging
      const api = yield* ApiClient.make({ baseUrl, timeout: { attempt: "200 millis" } })
      const error = yield* Effect.flip(api.get("/hang"))
      expect(error._tag === "Timeout" && error.reason).toBe("Attempt")
      yield* Deferred.await(closed)
    })).pipe(Effect.provide(transport)))

  for (
    const [title, options] of [
      ["a total timeout fails with Timeout(Deadline) and aborts the socket", {
        timeout: { attempt: "1 hour", total: "200 millis" }
      }],
      ["a total timeout alone clamps the attempt and aborts the socket", { timeout: { total: "200 millis" } }],
      ["with a policy that makes no deadline promise, the watcher fiber ends the call", {
        retry: Policy.make("retry", "pass-through", (next) => next),
        timeout: { total: "200 millis" }
      }]
    ] as const
  ) {
    it.live(title, () =>
      Effect.scoped(Effect.gen(function*() {
        const { baseUrl, closed } = yield* hanging
        const api = yield* ApiClient.make({ baseUrl, ...options })
        const error = yield* Effect.flip(api.get("/hang"))
        expect(error._tag === "Timeout" && error.reason).toBe("Deadline")
        yield* Deferred.await(closed)
      })).pipe(Effect.provide(transport)))
  }

  it.live("interrupting a call with timeouts aborts the socket", () =>
    Effect.scoped(Effect.gen(function*() {
      const { arrived, baseUrl, closed } = yield* hanging
      const api = yield* ApiClient.make({ baseUrl, timeout: { attempt: "1 hour", total: "2 hours" } })
      const fiber = yield* Effect.fork(api.get("/hang"))
      yield* Deferred.await(arrived)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      yield* Deferred.await(closed)
    })).pipe(Effect.provide(transport)))

  it.live("a call that answers in time is unaffected by its timeouts", () =>
    Effect.scoped(Effect.gen(function*() {
      const baseUrl = yield* listen((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.end("{\"ok\":true}")
      })
      const api = yield* ApiClient.make({ baseUrl, timeout: { attempt: "1 hour", total: "2 hours" } })
      expect(yield* api.get("/ok")).toEqual({ ok: true })
    })).pipe(Effect.provide(transport)))
})
