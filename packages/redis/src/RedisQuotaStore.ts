/**
 * Adaptive rate limiting's learned quota, shared by every instance of an app:
 * one hash per key (`<prefix>quota:<key>`) holding the server's limit and
 * window, what remains until when, the calls admitted and not answered by any
 * instance, and a 429's pause. Each acquire and release is one Lua script, so
 * N instances admit at most what the server said remains, minus everybody's
 * calls in flight. A key expires once it has been idle for `idle` (default 10
 * minutes) past its reset.
 *
 * When Redis cannot be reached the store falls back to a per-instance memory
 * store (`onUnavailable: "local"`, the default), so each instance still follows
 * what it learned itself. `"fail"` returns `QuotaStoreError`, which the limiter
 * treats as "no quota known" (the configured limit still holds).
 *
 * @since 0.1.0
 */
import * as QuotaStore from "@apikit/rate-limit/QuotaStore"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { call, outageLog, script } from "./internal/client.js"
import { acquireLua, releaseLua } from "./internal/quotaLua.js"
import { Redis } from "./Redis.js"

/**
 * How the store is set up.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"local"`. */
  readonly onUnavailable?: "local" | "fail" | undefined
  /** How long a key is kept once idle past its reset. Default 10 minutes. */
  readonly idle?: Duration.DurationInput | undefined
}

const opt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? -1 : Math.round(n))

const admission = (reply: unknown): QuotaStore.Admission => {
  const [tag, a, b] = reply as [number, number, number]
  return tag === 0
    ? { _tag: "Admitted", epoch: a }
    : tag === 1
    ? { _tag: "Wait", until: a, paused: b === 1 }
    : { _tag: "TooCostly", limit: a }
}

const snapshot = (reply: unknown): QuotaStore.Snapshot => {
  const [changed, limit, window, available] = reply as [number, number, number, number]
  return {
    changed: changed === 1,
    limit: limit > 0 ? limit : undefined,
    window: window > 0 ? window : undefined,
    available: available >= 0 ? available : undefined
  }
}

/**
 * The store over the {@link Redis} connection in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<QuotaStore.QuotaStore, never, Redis> =>
  Layer.effect(
    QuotaStore.QuotaStore,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = QuotaStore.makeMemory()
      const idle = options.idle === undefined ? 600_000 : Duration.toMillis(Duration.decode(options.idle))
      const acquire = script(client, "apikitQuotaAcquireV1", acquireLua, 1)
      const release = script(client, "apikitQuotaReleaseV1", releaseLua, 1)
      const keyOf = (key: string) => `${prefix}quota:${key}`
      const fallback = <A>(key: string, onLocal: Effect.Effect<A, QuotaStore.QuotaStoreError>) => (detail: string) =>
        options.onUnavailable === "fail"
          ? Effect.fail(new QuotaStore.QuotaStoreError({ key, detail: `Redis: ${detail}` }))
          : Effect.zipRight(
            warn("apikit redis: the quota store is unreachable; using this instance's quota", { key, detail }),
            onLocal
          )
      const send = (
        key: string,
        cost: number,
        epoch: number,
        sent: boolean,
        o: QuotaStore.Observation | undefined,
        window: number
      ) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          call(() =>
            release(
              keyOf(key),
              now,
              cost,
              epoch,
              sent ? 1 : 0,
              o === undefined ? 0 : 1,
              opt(o?.limit),
              opt(o?.remaining),
              opt(o?.resetAt),
              opt(o?.window),
              opt(o?.pauseUntil),
              window,
              idle
            )
          )).pipe(Effect.map(snapshot))
      return QuotaStore.QuotaStore.of({
        acquire: (key, cost, limit, window) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            call(() => acquire(keyOf(key), now, cost, limit, window, idle))).pipe(
              Effect.map(admission),
              Effect.catchAll(fallback(key, local.acquire(key, cost, limit, window)))
            ),
        release: (key, ticket, o, window) =>
          send(key, ticket.cost, ticket.epoch, ticket.sent, o, window).pipe(
            Effect.catchAll(fallback(key, local.release(key, ticket, o, window)))
          ),
        observe: (key, o, window) =>
          // The local copy keeps this instance honest if Redis goes away.
          Effect.zipRight(
            local.observe(key, o, window),
            send(key, 0, -1, true, o, window).pipe(Effect.catchAll(fallback(key, local.observe(key, o, window))))
          )
      })
    })
  )
