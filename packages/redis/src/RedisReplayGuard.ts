/**
 * A webhook {@link ReplayGuard} shared by every instance of an app: one
 * `SET key 1 NX PX ttl` per delivery, so a delivery id is processed once
 * whichever instance receives it, and forgotten when its replay window ends.
 *
 * When Redis cannot be reached the guard falls back to a per-instance memory
 * guard (`onUnavailable: "local"`, the default): duplicates are still caught
 * on the instance that saw the first delivery. `"accept"` processes every
 * delivery during the outage instead. There is no fail-closed mode: the
 * receiver answers a replay with 200, so treating an unknown delivery as a
 * replay would drop it for good.
 *
 * @since 0.1.0
 */
import { ReplayGuard } from "@apikit/webhooks/ReplayGuard"
import * as MemoryGuard from "@apikit/webhooks/ReplayGuard"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { call, outageLog, px } from "./internal/client.js"
import { Redis } from "./Redis.js"

/**
 * How the guard is set up.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"local"`. */
  readonly onUnavailable?: "local" | "accept" | undefined
}

/**
 * The guard over the {@link Redis} connection in context; keys are `<prefix>replay:<scheme>:<id>`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { Redis, RedisReplayGuard } from "@apikit/redis"
 * import { Layer } from "effect"
 *
 * const guard = RedisReplayGuard.layer().pipe(Layer.provide(Redis.layerConfig()))
 */
export const layer = (options: Options = {}): Layer.Layer<ReplayGuard, never, Redis> =>
  Layer.effect(
    ReplayGuard,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = yield* Effect.provide(ReplayGuard, MemoryGuard.layerMemory())
      const acceptAll = options.onUnavailable === "accept"
      const keyOf = (key: string) => `${prefix}replay:${key}`
      const unavailable = (operation: string, key: string) => (detail: string) =>
        warn(`apikit redis: the replay guard could not ${operation}; using the fallback`, {
          key,
          detail,
          fallback: acceptAll ? "accept" : "local"
        })
      return ReplayGuard.of({
        claim: (key, ttl) =>
          call(() => client.set(keyOf(key), "1", "PX", px(Duration.toMillis(ttl)), "NX")).pipe(
            Effect.map((reply) => reply === null),
            Effect.catchAll((detail) =>
              Effect.zipRight(
                unavailable("claim", key)(detail),
                acceptAll ? Effect.succeed(false) : local.claim(key, ttl)
              )
            )
          ),
        release: (key) =>
          Effect.zipRight(
            local.release(key),
            call(() => client.del(keyOf(key))).pipe(Effect.asVoid, Effect.catchAll(unavailable("release", key)))
          )
      })
    })
  )
