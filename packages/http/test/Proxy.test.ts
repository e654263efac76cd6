/**
 * Proxies, through the `proxy` package (an HTTP proxy that tunnels CONNECT,
 * with optional basic auth) on 127.0.0.1: a proxy URL, credentials kept
 * `Redacted` out of every error, `HTTP_PROXY`/`NO_PROXY` with `proxy: "env"`
 * and under Node's `NODE_USE_ENV_PROXY=1`, and `"none"`.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Inspectable, Redacted } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { createProxy } from "proxy"

/** The `proxy` package on 127.0.0.1; counts what it was asked to tunnel, and checks credentials when given. */
const proxyServer = (credentials?: string) =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; tunnels: Array<string> }>((resume) => {
      const tunnels: Array<string> = []
      const server = createProxy(Http.createServer())
      server.on("connect", (req: Http.IncomingMessage) => void tunnels.push(req.url ?? ""))
      server.on("request", (req: Http.IncomingMessage) => void tunnels.push(req.url ?? ""))
      if (credentials !== undefined) {
        const expected = `Basic ${Buffer.from(credentials).toString("base64")}`
        server.authenticate = (req) => req.headers["proxy-authorization"] === expected
      }
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, tunnels })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ server, tunnels }) => ({ port: (server.address() as AddressInfo).port, tunnels })))

const api = listen((req, res) => {
  res.writeHead(200, { "content-type": "application/json" })
  res.end(JSON.stringify({ path: req.url, via: req.headers["x-forwarded-for"] ?? null }))
})

/** Runs `f` with environment variables set, restoring them after. */
const withEnv = <A, E, R>(vars: Record<string, string>, f: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
      Object.assign(process.env, vars)
      return before
    }),
    () => f,
    (before) =>
      Effect.sync(() => {
        for (const [k, v] of Object.entries(before)) {
          if (v === undefined) delete process.env[k]
          else process.env[k] = v
        }
      })
  )

describe("proxies", () => {
  it.scoped("proxy: a URL sends every call through it", () =>
    Effect.gen(function*() {
      const { port, tunnels } = yield* proxyServer()
      const baseUrl = yield* api
      const result = yield* Effect.gen(function*() {
        const client = yield* ApiClient.make({ baseUrl })
        return yield* client.get("/projects")
      }).pipe(Effect.provide(UndiciHttpClient.layerWith({ proxy: `http://127.0.0.1:${port}` })))
      expect(result).toEqual({ path: "/projects", via: null })
      expect(tunnels).toEqual([new URL(baseUrl).host])
    }))

  it.scoped("credentials in a Redacted proxy URL authenticate, and a refusal never shows them", () =>
    Effect.gen(function*() {
      const { port, tunnels } = yield* proxyServer("ops:pr0xy-s3cret")
      const baseUrl = yield* api
      const call = (proxy: Redacted.Redacted<string>) =>
        Effect.gen(function*() {
          const client = yield* ApiClient.make({ baseUrl })
          return yield* client.get("/ok")
        }).pipe(Effect.provide(UndiciHttpClient.layerWith({ proxy })))

      expect(yield* call(Redacted.make(`http://ops:pr0xy-s3cret@127.0.0.1:${port}`))).toEqual({
        path: "/ok",
        via: null
      })
      expect(tunnels.length).toBe(1)

      const refused = yield* Effect.either(call(Redacted.make(`http://ops:wr0ng-s3cret@127.0.0.1:${port}`)))
      expect(Either.isLeft(refused)).toBe(true)
      const error = Either.isLeft(refused) ? refused.left : undefined
      expect(error?._tag === "Transport" && error.reason).toBe("Proxy")
      expect(error?.message).toContain("the proxy answered 407")
      const shown = `${error?.message} ${Inspectable.format(error)} ${JSON.stringify(error)}`
      expect(shown).not.toContain("wr0ng-s3cret")
      expect(shown).not.toContain(Buffer.from("ops:wr0ng-s3cret").toString("base64"))
    }))

  it.scoped("proxy: \"env\" reads HTTP_PROXY and skips the hosts in NO_PROXY", () =>
    Effect.gen(function*() {
      const { port, tunnels } = yield* proxyServer()
      const baseUrl = yield* api
      const apiPort = new URL(baseUrl).port
      yield* withEnv(
        { HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: "localhost" },
        Effect.gen(function*() {
          const proxied = yield* ApiClient.make({ baseUrl })
          const direct = yield* ApiClient.make({ baseUrl: `http://localhost:${apiPort}` })
          yield* proxied.get("/via-proxy")
          yield* direct.get("/direct")
        }).pipe(Effect.provide(UndiciHttpClient.layerWith({ proxy: "env" })))
      )
      expect(tunnels).toEqual([`127.0.0.1:${apiPort}`])
    }))

  it.scoped("NODE_USE_ENV_PROXY=1 turns the environment's proxy on for the default layer, as for Node's fetch", () =>
    Effect.gen(function*() {
      const { port, tunnels } = yield* proxyServer()
      const baseUrl = yield* api
      yield* withEnv(
        { HTTP_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: "", NODE_USE_ENV_PROXY: "1" },
        Effect.gen(function*() {
          const proxied = yield* ApiClient.make({ baseUrl }).pipe(Effect.provide(UndiciHttpClient.layer))
          yield* proxied.get("/env-default")
          const direct = yield* ApiClient.make({ baseUrl }).pipe(
            Effect.provide(UndiciHttpClient.layerWith({ proxy: "none" }))
          )
          yield* direct.get("/none")
        })
      )
      expect(tunnels).toEqual([new URL(baseUrl).host])
    }))

  it.scoped("a proxy URL that does not parse fails each call with Transport{Proxy}, never showing it", () =>
    Effect.gen(function*() {
      const baseUrl = yield* api
      const error = yield* Effect.flip(
        Effect.gen(function*() {
          const client = yield* ApiClient.make({ baseUrl })
          return yield* client.get("/never")
        }).pipe(Effect.provide(UndiciHttpClient.layerWith({ proxy: Redacted.make("ops:s3cret@proxy:3128") })))
      )
      expect(error._tag === "Transport" && error.reason).toBe("Proxy")
      expect(error.message).toContain("the proxy URL is not a valid URL")
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain("s3cret")
    }))
})
