/**
 * The cache stage against real server software run in-process on 127.0.0.1:
 * express with its default (weak) ETags and express-rate-limit counting the
 * way GitHub does (a 304 is not counted), fastify with @fastify/etag (strong
 * ETags), and @fastify/static serving a file with Last-Modified only.
 * Repeated reads of unchanged resources must become 304s, every value decoded
 * from the stored body.
 */
import { Cache, CacheStore } from "@apikit/cache"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import fastifyEtag from "@fastify/etag"
import fastifyStatic from "@fastify/static"
import { Effect, Layer, Schema } from "effect"
import express from "express"
import { rateLimit } from "express-rate-limit"
import Fastify from "fastify"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"

const Repo = Schema.Struct({ id: Schema.Number, name: Schema.String })

/** An express app as GitHub behaves: default ETags, 60 requests an hour, 304s not counted. */
const githubLike = (statuses: Array<number>, limit: number) => {
  const app = express()
  app.use((_req, res, next) => {
    res.on("finish", () => statuses.push(res.statusCode))
    next()
  })
  app.use(rateLimit({
    windowMs: 3600_000,
    limit,
    standardHeaders: "draft-6",
    legacyHeaders: true,
    // GitHub: "a 304 response does not count against your primary rate limit".
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode === 304
  }))
  app.get("/repos/:id", (req, res) => {
    res.json({ id: Number(req.params.id), name: "effect" })
  })
  return app
}

const transports = [
  ["UndiciHttpClient", UndiciHttpClient.layer],
  ["NodeHttpClient (undici)", NodeHttpClient.layerUndici]
] as const

describe.each(transports)("over %s", (_name, transport) => {
  const run = <A, E>(self: Effect.Effect<A, E, any>) =>
    self.pipe(
      Effect.provide(Layer.mergeAll(transport, CacheStore.layerMemory, RateLimit.layerMemory)),
      Effect.scoped
    ) as Effect.Effect<A, E>

  it.live("express (default ETags): repeated reads are 304s, which the server's limiter does not count", () =>
    Effect.gen(function*() {
      const statuses: Array<number> = []
      const baseUrl = yield* listen(Http.createServer(githubLike(statuses, 3)))
      // The client's own limiter has the provider's limit; with notModifiedIsFree it does not charge 304s either.
      const api = yield* ApiClient.make({
        baseUrl,
        cache: yield* Cache.make({ notModifiedIsFree: true }),
        rateLimit: yield* RateLimit.make({ limit: 3, window: "1 hour", onExceeded: "fail" })
      })
      for (let i = 0; i < 10; i++) {
        expect(yield* api.get("/repos/1", { success: Repo })).toEqual({ id: 1, name: "effect" })
      }
      expect(statuses).toEqual([200, 304, 304, 304, 304, 304, 304, 304, 304, 304])
      // express-rate-limit counts a request when it arrives and gives it back when the answer is a 304:
      // every 304 shows the one full read plus itself, and leaves the count where it was.
      const last = yield* api.exchange("GET", "/repos/1", { success: Repo })
      expect(last.headers["x-ratelimit-remaining"]).toBe("1")
      // Two more full reads fit in the provider's limit (the 304s cost nothing there), and in the client's.
      yield* api.get("/repos/2")
      yield* api.get("/repos/3")
      expect(statuses.filter((s) => s === 200).length).toBe(3)
      // Now the client refuses before sending, and the server agrees the quota is spent.
      expect((yield* Effect.flip(api.get("/repos/4")))._tag).toBe("RateLimited")
      const direct = yield* Effect.promise(() => fetch(`${baseUrl}/repos/4`))
      expect(direct.status).toBe(429)
    }).pipe(run))

  it.live("express without notModifiedIsFree: the client's limiter charges every revalidation", () =>
    Effect.gen(function*() {
      const statuses: Array<number> = []
      const baseUrl = yield* listen(Http.createServer(githubLike(statuses, 100)))
      const api = yield* ApiClient.make({
        baseUrl,
        cache: yield* Cache.make(),
        rateLimit: yield* RateLimit.make({ limit: 3, window: "1 hour", onExceeded: "fail" })
      })
      for (let i = 0; i < 3; i++) yield* api.get("/repos/1", { success: Repo })
      expect((yield* Effect.flip(api.get("/repos/1")))._tag).toBe("RateLimited")
      expect(statuses).toEqual([200, 304, 304])
    }).pipe(run))

  it.live("fastify with @fastify/etag (strong ETags): repeated reads are 304s", () =>
    Effect.gen(function*() {
      const statuses: Array<number> = []
      const app = Fastify()
      yield* Effect.promise(() => app.register(fastifyEtag))
      app.addHook("onResponse", (_req, reply, done) => {
        statuses.push(reply.statusCode)
        done()
      })
      app.get("/repos/:id", (req) => ({ id: Number((req.params as { id: string }).id), name: "effect" }))
      yield* Effect.promise(() => app.ready())
      const baseUrl = yield* listen(app.server)
      const api = yield* ApiClient.make({ baseUrl, cache: yield* Cache.make() })
      for (let i = 0; i < 5; i++) {
        expect(yield* api.get("/repos/7", { success: Repo })).toEqual({ id: 7, name: "effect" })
      }
      expect(statuses).toEqual([200, 304, 304, 304, 304])
      yield* Effect.promise(() => app.close())
    }).pipe(run))

  it.live("@fastify/static with Last-Modified only: If-Modified-Since revalidations are 304s", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "apikit-cache-"))
      Fs.writeFileSync(Path.join(dir, "repo.json"), JSON.stringify({ id: 9, name: "static" }))
      // A modification time in the past, so the file's Last-Modified is a usable validator.
      Fs.utimesSync(Path.join(dir, "repo.json"), new Date(1_700_000_000_000), new Date(1_700_000_000_000))
      const seen: Array<[number, string | undefined]> = []
      const app = Fastify()
      app.addHook("onResponse", (req, reply, done) => {
        seen.push([reply.statusCode, req.headers["if-modified-since"]])
        done()
      })
      yield* Effect.promise(() => app.register(fastifyStatic, { root: dir, etag: false }))
      yield* Effect.promise(() => app.ready())
      const baseUrl = yield* listen(app.server)
      const api = yield* ApiClient.make({ baseUrl, cache: yield* Cache.make() })
      for (let i = 0; i < 4; i++) {
        expect(yield* api.get("/repo.json", { success: Repo })).toEqual({ id: 9, name: "static" })
      }
      const lastModified = new Date(1_700_000_000_000).toUTCString()
      expect(seen).toEqual([[200, undefined], [304, lastModified], [304, lastModified], [304, lastModified]])
      yield* Effect.promise(() => app.close())
      Fs.rmSync(dir, { recursive: true, force: true })
    }).pipe(run))
})
