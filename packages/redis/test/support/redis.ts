/**
 * Where the Redis tests find Redis, and how they clean up after themselves.
 *
 * Every test layer writes under its own random prefix and deletes exactly the
 * keys under it when released. With no Redis at REDIS_URL the suites skip
 * (one line says how to run them), unless APIKIT_REQUIRE_REDIS=1 (CI), where
 * they run and fail.
 */
import { Redis } from "@apikit/redis"
import { Context, Effect, Layer, Schedule } from "effect"
import { Redis as IORedis } from "ioredis"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as net from "node:net"

export const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
export const required = process.env.APIKIT_REQUIRE_REDIS === "1"

const probe = async (): Promise<boolean> => {
  const client = new IORedis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null
  })
  client.on("error", () => {})
  try {
    await client.connect()
    return (await client.ping()) === "PONG"
  } catch {
    return false
  } finally {
    client.disconnect()
  }
}

/** Whether the Redis suites run: Redis answers, or CI requires it (then a missing Redis fails them). */
export const available = (await probe()) || required

export const skipNotice = `@apikit/redis: no Redis at ${url}; skipping the Redis tests. Run them with a local Redis ` +
  `(redis-server --save "" --port 6379) or REDIS_URL=redis://host:port; APIKIT_REQUIRE_REDIS=1 makes a missing Redis a failure.`

export const newPrefix = () => `apikit-test:${randomUUID().slice(0, 8)}:`

/** Deletes every key under `prefix` (SCAN, never FLUSH: the Redis may be shared). */
export const deleteKeys = (client: IORedis, prefix: string) =>
  Effect.promise(async () => {
    let cursor = "0"
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== "0")
  })

/** Keys under `prefix` with their PTTL (-1: no expiry). */
export const keysWithTtl = (client: IORedis, prefix: string) =>
  Effect.promise(async () => {
    const out: Array<[string, number]> = []
    let cursor = "0"
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
      for (const key of keys) out.push([key, await client.pttl(key)])
      cursor = next
    } while (cursor !== "0")
    return out
  })

/** A connection under a fresh prefix (or `prefix`), whose keys are deleted when the layer is released. */
export const layer = (options: { readonly prefix?: string; readonly url?: string } = {}) =>
  Layer.scoped(
    Redis.Redis,
    Effect.gen(function*() {
      const redis = yield* Redis.Redis
      const prefix = options.prefix ?? newPrefix()
      yield* Effect.addFinalizer(() => deleteKeys(redis.client, prefix))
      return { client: redis.client, prefix }
    })
  ).pipe(Layer.provide(Redis.layer({ url: options.url ?? url })))

/** Builds a layer in the test's scope and returns its service (one "app instance"). */
export const instance = <I, S, E>(tag: Context.Tag<I, S>, layer: Layer.Layer<I, E>) =>
  Effect.map(Layer.build(layer), (context) => Context.get(context, tag))

/** A port on 127.0.0.1 where nothing listens (taken from the OS, then released). */
export const freePort = () =>
  Effect.async<number>((resume) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/** Starts redis-server on `port` for the life of the scope; `false` when redis-server is not installed. */
const serveOn = (port: number) =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
          stdio: "ignore"
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
    )
    const spawned = yield* Effect.async<boolean>((resume) => {
      child.once("spawn", () => resume(Effect.succeed(true)))
      child.once("error", () => resume(Effect.succeed(false)))
    })
    if (!spawned) return false
    // Ready when it accepts a connection (bounded: 100 tries, 20 ms apart).
    yield* Effect.async<void, Error>((resume) => {
      const socket = net.connect(port, "127.0.0.1")
      socket.once("connect", () => {
        socket.destroy()
        resume(Effect.void)
      })
      socket.once("error", (e) => resume(Effect.fail(e)))
    }).pipe(Effect.retry(Schedule.intersect(Schedule.spaced("20 millis"), Schedule.recurs(100))), Effect.orDie)
    return true
  })

/**
 * A throw-away redis-server on a free port for the life of the scope, for
 * tests that take Redis away mid-run (and bring it back with `restart`).
 * `undefined` when redis-server is not installed.
 */
export const spareServer = Effect.gen(function*() {
  const port = yield* freePort()
  if (!(yield* serveOn(port))) return undefined
  return { port, url: `redis://127.0.0.1:${port}`, restart: serveOn(port) }
})
