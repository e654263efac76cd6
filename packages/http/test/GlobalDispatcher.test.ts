/**
 * Node installs the undici it ships as the global dispatcher at start-up: 6.x
 * on Node 20 and 22, whose dispatch knows only the old handler API. The
 * default UndiciHttpClient must not send through it (on Node 22 every call
 * failed with Transport "UND_ERR_INVALID_ARG: invalid onError method").
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

const server = listen((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" })
  res.end("{\"ok\":true}")
})

const legacy = Symbol.for("undici.globalDispatcher.1")
const current = Symbol.for("undici.globalDispatcher.2")
type Globals = Record<symbol, unknown>

/** A global dispatcher of the older API only, as Node 22 installs it, for the length of the scope. */
const olderGlobalDispatcher = Effect.acquireRelease(
  Effect.sync(() => {
    const saved = { legacy: (globalThis as Globals)[legacy], current: (globalThis as Globals)[current] }
    const seen: Array<string> = []
    ;(globalThis as Globals)[legacy] = {
      dispatch: () => {
        seen.push("dispatch")
        return false
      },
      request: () => Promise.reject(new Error("the older global dispatcher was used"))
    }
    ;(globalThis as Globals)[current] = undefined
    return { saved, seen }
  }),
  ({ saved }) =>
    Effect.sync(() => {
      ;(globalThis as Globals)[legacy] = saved.legacy
      ;(globalThis as Globals)[current] = saved.current
    })
)

describe("UndiciHttpClient's default dispatcher", () => {
  it.scoped("is apikit's own Agent when the global dispatcher is Node's older undici", () =>
    Effect.gen(function*() {
      const baseUrl = yield* server
      const { seen } = yield* olderGlobalDispatcher
      const api = yield* ApiClient.make({ baseUrl }).pipe(Effect.provide(UndiciHttpClient.layer))
      expect(yield* api.get("/ok")).toEqual({ ok: true })
      expect(seen).toEqual([])
    }))

  it.scopedLive("is the global one when it was set with undici 7's setGlobalDispatcher", () =>
    Effect.gen(function*() {
      const baseUrl = yield* server
      const { seen } = yield* olderGlobalDispatcher // The test's stand-in for a ProxyAgent someone installed: it answers nothing, and is seen.
      ;(globalThis as Globals)[current] = (globalThis as Globals)[legacy]
      const api = yield* ApiClient.make({ baseUrl, timeout: { attempt: "200 millis" } }).pipe(
        Effect.provide(UndiciHttpClient.layer)
      )
      const error = yield* Effect.flip(api.get("/ok"))
      expect(error._tag).toBe("Timeout")
      expect(seen).toEqual(["dispatch"])
    }))
})
