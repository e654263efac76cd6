/**
 * Real rate-limited servers, in process on 127.0.0.1 (port 0): express with
 * express-rate-limit (IETF draft-8, draft-7, and draft-6 with the legacy
 * `X-RateLimit-*` headers) and fastify with @fastify/rate-limit. Each counts
 * what it saw: arrival times (server clock) and the requests it refused.
 * `GET /warm` is not limited nor counted: a client opens its connections
 * with it, so that the first window does not measure connection setup.
 * Used by this package's tests, `@apikit/redis`'s multi-process test and the
 * rate-limit bench.
 */
import fastifyRateLimit from "@fastify/rate-limit"
import express from "express"
import { rateLimit } from "express-rate-limit"
import fastify from "fastify"
import type { Server as HttpServer } from "node:http"
import type { AddressInfo } from "node:net"

export type Kind = "express-draft-8" | "express-draft-7" | "express-draft-6" | "fastify"

export const kinds: ReadonlyArray<Kind> = ["express-draft-8", "express-draft-7", "express-draft-6", "fastify"]

export interface Server {
  readonly url: string
  /** Arrival time (ms, server clock) of every request, refused or not. */
  readonly arrivals: Array<number>
  /** Arrival times of the requests it refused with 429. */
  readonly refused: Array<number>
  readonly close: () => Promise<void>
}

export const start = async (kind: Kind, limit: number, windowMs: number): Promise<Server> => {
  const arrivals: Array<number> = []
  const refused: Array<number> = []
  if (kind === "fastify") {
    const app = fastify()
    app.addHook("onRequest", async (request) => {
      if (request.url !== "/warm") arrivals.push(Date.now())
    })
    await app.register(fastifyRateLimit, {
      max: limit,
      timeWindow: windowMs,
      allowList: (request) => request.url === "/warm",
      onExceeded: () => {
        refused.push(Date.now())
      }
    })
    app.get("/v1/items", async () => ({ ok: true }))
    app.get("/warm", async () => ({ ok: true }))
    await app.listen({ host: "127.0.0.1", port: 0 })
    const port = (app.server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}`, arrivals, refused, close: () => app.close() }
  }
  const app = express()
  app.use((req, _res, next) => {
    if (req.path !== "/warm") arrivals.push(Date.now())
    next()
  })
  app.use(rateLimit({
    windowMs,
    limit,
    standardHeaders: kind === "express-draft-8" ? "draft-8" : kind === "express-draft-7" ? "draft-7" : "draft-6",
    legacyHeaders: kind === "express-draft-6",
    skip: (req) => req.path === "/warm",
    handler: (_req, res, _next, options) => {
      refused.push(Date.now())
      res.status(options.statusCode).send(options.message)
    }
  }))
  app.get("/v1/items", (_req, res) => {
    res.json({ ok: true })
  })
  app.get("/warm", (_req, res) => {
    res.json({ ok: true })
  })
  const server = await new Promise<HttpServer>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s))
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    refused,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/**
 * The most requests that arrived in one of the server's windows. Both
 * libraries start a client's window at its first request after the last one
 * ended, so the windows are rebuilt from the arrivals the same way.
 */
export const maxPerWindow = (arrivals: ReadonlyArray<number>, windowMs: number) => {
  let max = 0
  let windowEnd = -Infinity
  let count = 0
  for (const t of [...arrivals].sort((a, b) => a - b)) {
    if (t >= windowEnd) {
      windowEnd = t + windowMs
      count = 0
    }
    max = Math.max(max, ++count)
  }
  return max
}
