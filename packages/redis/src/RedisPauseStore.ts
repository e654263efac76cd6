/**
 * Adaptive rate limiting's "the server says wait until T" state, shared by
 * every instance of an app: one key per limit, holding T, expiring at T. A
 * later pause already stored wins (one Lua script, so two instances learning
 * different T at once keep the later one).
 *
 * When Redis cannot be reached the store falls back to a per-instance memory
 * store (`onUnavailable: "local"`, the default), so each instance still honours
 * the pauses it learned itself. `"fail"` returns `PauseStoreError`, which the
 * limiter treats as "no pause known".
 *
 * @since 0.1.0
 */
import { PauseStore, PauseStoreError } from "@apikit/rate-limit/PauseStore"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { call, outageLog, px, script } from "./internal/client.js"
import { Redis } from "./Redis.js"

/**
 * How the store is set up.
 *
 * @since 0.1.0
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"local"`. */
  readonly onUnavailable?: "local" | "fail" | undefined
}

const pauseLua = `
local current = tonumber(redis.call("GET", KEYS[1]))
local untilMs = tonumber(ARGV[1])
if current == nil or current < untilMs then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
end
return 1
`

/**
 * The store over the {@link Redis} connection in context; keys are `<prefix>pause:<key>`.
 *
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<PauseStore, never, Redis> =>
  Layer.effect(
    PauseStore,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = yield* Effect.provide(PauseStore, PauseStore.layerMemory)
      const pause = script(client, "apikitPauseV1", pauseLua, 1)
      const keyOf = (key: string) => `${prefix}pause:${key}`
      const fallback = <A>(key: string, onLocal: Effect.Effect<A, PauseStoreError>) => (detail: string) =>
        options.onUnavailable === "fail"
          ? Effect.fail(new PauseStoreError({ key, detail: `Redis: ${detail}` }))
          : Effect.zipRight(
            warn("apikit redis: the pause store is unreachable; using this instance's pauses", { key, detail }),
            onLocal
          )
      return PauseStore.of({
        get: (key) =>
          Effect.gen(function*() {
            const stored = yield* call(() => client.get(keyOf(key)))
            const now = yield* Clock.currentTimeMillis
            const until = stored === null ? NaN : Number(stored)
            return Number.isFinite(until) && until > now ? until : undefined
          }).pipe(Effect.catchAll(fallback(key, local.get(key)))),
        pause: (key, until) =>
          // The local copy keeps this instance honest if Redis goes away before T.
          Effect.zipRight(
            local.pause(key, until),
            Effect.gen(function*() {
              const now = yield* Clock.currentTimeMillis
              if (until <= now) return
              yield* call(() => pause(keyOf(key), until, px(until - now)))
            }).pipe(Effect.catchAll(fallback(key, Effect.void)))
          )
      })
    })
  )
