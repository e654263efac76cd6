import { Cache, CacheStore } from "@apikit/cache"
import { ApiClient } from "@apikit/http"
import { Redis, RedisCacheStore } from "@apikit/redis"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, TestClock } from "effect"
import * as Support from "./support/redis.js"

const etagged = (request: MockHttp.MockRequest) =>
  request.headers["if-none-match"] === "\"v1\""
    ? MockHttp.status(304, { etag: "\"v1\"", "cache-control": "max-age=60" })
    : MockHttp.json(200, { id: Number(request.params["id"]), name: "effect" }, {
      etag: "\"v1\"",
      "cache-control": "max-age=60"
    })

/** One app instance: its own cache stage and client over the shared Redis prefix. */
const instance = (prefix: string) =>
  Effect.gen(function*() {
    const store = yield* Support.instance(
      CacheStore.CacheStore,
      RedisCacheStore.layer.pipe(Layer.provide(Support.layer({ prefix })))
    )
    const cache = yield* Cache.make().pipe(Effect.provideService(CacheStore.CacheStore, store))
    return yield* ApiClient.make({ baseUrl: "https://api.example.com", name: "shared", cache })
  })

describe.skipIf(!Support.available)("RedisCacheStore", () => {
  it.scoped("what one instance stored answers another; a 304 learned by one refreshes it for all", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      expect(yield* a.get("/repos/1")).toEqual({ id: 1, name: "effect" })
      expect(yield* b.get("/repos/1")).toEqual({ id: 1, name: "effect" }) // from Redis
      expect(yield* MockHttp.count()).toBe(1)
      yield* TestClock.adjust("61 seconds")
      expect(yield* a.get("/repos/1")).toEqual({ id: 1, name: "effect" }) // revalidated: 304
      expect(yield* b.get("/repos/1")).toEqual({ id: 1, name: "effect" }) // fresh again, for b too
      const sent = yield* MockHttp.requests
      expect(sent.map((r) => r.headers["if-none-match"])).toEqual([undefined, "\"v1\""])
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.get("/repos/:id", etagged)]))))

  it.scoped("entries expire with freshness + keepStale; invalidating a URL drops it for every instance", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const a = yield* instance(prefix)
      const b = yield* instance(prefix)
      yield* a.get("/repos/2")
      const keys = yield* Support.keysWithTtl(client, prefix)
      const entry = keys.find(([k]) => k.startsWith(`${prefix}cache:`))!
      expect(entry[0]).toContain("https://api.example.com/repos/2")
      // max-age=60 plus the default keepStale of an hour.
      expect(entry[1]).toBeGreaterThan(3_650_000)
      expect(entry[1]).toBeLessThanOrEqual(3_660_000)
      yield* Cache.invalidate(b, "/repos/2").pipe(
        Effect.provide(RedisCacheStore.layer.pipe(Layer.provide(Support.layer({ prefix }))))
      )
      expect((yield* Support.keysWithTtl(client, prefix)).filter(([k]) => k.includes("cache"))).toEqual([])
      yield* a.get("/repos/2")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.get("/repos/:id", etagged)]))))
})
