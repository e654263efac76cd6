/**
 * The Redis connection every `@apikit/redis` store uses: one ioredis client
 * and the key prefix all stores write under.
 *
 * The client is set up to fail fast instead of hanging or printing: commands
 * are never queued while disconnected (`enableOfflineQueue: false`), never
 * retried (`maxRetriesPerRequest: 0`), time out after `commandTimeout`, and
 * connection errors go to the Effect logger (once per outage) instead of the
 * console. Reconnection keeps going in the background with a capped backoff,
 * so the stores use Redis again as soon as it is back.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import { Redis as IORedis, type RedisOptions } from "ioredis"
import { describe } from "./internal/describe.js"

/**
 * Redis could not be reached when the layer was built.
 *
 * @since 0.1.0
 * @category errors
 */
export class RedisError extends Schema.TaggedError<RedisError>()("RedisError", {
  /** The URL with any password masked. */
  url: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Could not connect to Redis at ${this.url}: ${this.detail}; start Redis or point REDIS_URL at it`
  }
}

/**
 * A connected client and the prefix every store's keys start with.
 *
 * @since 0.1.0
 * @category services
 */
export class Redis extends Context.Tag("@apikit/redis/Redis")<Redis, {
  readonly client: IORedis
  /** Prepended to every key (default `"apikit:"`), so apikit's keys are easy to find and to flush. */
  readonly prefix: string
}>() {}

/**
 * How to connect.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Default `redis://127.0.0.1:6379`; may carry a password (`redis://:pw@host:6379/0`), so it may be `Redacted`. */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /** Default `"apikit:"`. */
  readonly prefix?: string | undefined
  /** How long one command may take before it fails (default 500 ms). A store then applies its fallback. */
  readonly commandTimeout?: Duration.DurationInput | undefined
  /** How long to wait for the first connection (default 2 seconds). */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Extra ioredis options (TLS, sentinels, ...); the fail-fast settings above win. */
  readonly redisOptions?: RedisOptions | undefined
}

/**
 * The default URL.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultUrl = "redis://127.0.0.1:6379"

/**
 * A URL safe to print: the password (and a username with it) masked.
 *
 * @since 0.1.0
 * @category utils
 */
export const maskUrl = (url: string): string => {
  if (!URL.canParse(url)) return "<unparsable Redis URL>"
  const u = new URL(url)
  if (u.password !== "") u.password = "***"
  return u.toString()
}

/**
 * Connects to Redis for the lifetime of the layer and closes the connection
 * when it is released. Fails with {@link RedisError} when Redis cannot be
 * reached within `connectTimeout`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { Redis, RedisCircuitBreakerStore } from "@apikit/redis"
 * import { Layer } from "effect"
 *
 * const stores = RedisCircuitBreakerStore.layer().pipe(Layer.provide(Redis.layer({ url: "redis://127.0.0.1:6379" })))
 */
export const layer = (options: Options = {}): Layer.Layer<Redis, RedisError> =>
  Layer.scoped(
    Redis,
    Effect.gen(function*() {
      const url = options.url === undefined
        ? defaultUrl
        : Redacted.isRedacted(options.url)
        ? Redacted.value(options.url)
        : options.url
      const shown = maskUrl(url)
      const runtime = yield* Effect.runtime<never>()
      const log = Runtime.runFork(runtime)
      let closing = false
      const client = yield* Effect.acquireRelease(
        Effect.sync(() =>
          new IORedis(url, {
            ...options.redisOptions,
            lazyConnect: true,
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            commandTimeout: Duration.toMillis(options.commandTimeout ?? Duration.millis(500)),
            connectTimeout: Duration.toMillis(options.connectTimeout ?? Duration.seconds(2)),
            // Reconnect for as long as the app runs (the stores fall back meanwhile), at most every 2 s.
            retryStrategy: (times) => Math.min(times * 100, 2000)
          })
        ),
        (client) =>
          Effect.promise(() => {
            closing = true
            return client.status === "ready"
              ? client.quit().catch(() => client.disconnect())
              : Promise.resolve(client.disconnect())
          })
      )
      // Without an "error" listener ioredis prints every connection error to the console. Log each
      // outage once instead: when a ready connection closes, and again when it is ready again.
      let lastError: string | undefined
      let ready = false
      let down = false
      client.on("error", (error: unknown) => {
        lastError = describe(error)
      })
      client.on("close", () => {
        if (!ready || down || closing) return
        down = true
        log(
          Effect.logWarning("apikit redis: connection lost; stores use their fallback until it is back").pipe(
            Effect.annotateLogs({ url: shown, error: lastError ?? "the connection closed" })
          )
        )
      })
      client.on("ready", () => {
        ready = true
        if (!down) return
        down = false
        log(Effect.logInfo("apikit redis: connection restored").pipe(Effect.annotateLogs({ url: shown })))
      })
      yield* Effect.tryPromise({
        try: () => client.connect(),
        // "Connection is closed" says less than the socket error that closed it.
        catch: (cause) => new RedisError({ url: shown, detail: lastError ?? describe(cause) })
      })
      return { client, prefix: options.prefix ?? "apikit:" }
    })
  )

/**
 * Uses a client the app already has (and keeps managing: the layer does not close it).
 * Prefer {@link layer}: its fail-fast settings are what the stores' fallbacks rely on.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  client: IORedis,
  options: { readonly prefix?: string | undefined } = {}
): Layer.Layer<Redis> => Layer.succeed(Redis, { client, prefix: options.prefix ?? "apikit:" })

/**
 * {@link layer} with the URL from `REDIS_URL` (default `redis://127.0.0.1:6379`), read as a secret.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Omit<Options, "url"> = {}
): Layer.Layer<Redis, RedisError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.withDefault(Config.redacted("REDIS_URL"), Redacted.make(defaultUrl)),
      (url) => layer({ ...options, url })
    )
  )
