/**
 * Remembers delivery ids (`webhook-id`, `X-GitHub-Delivery`, a Stripe event
 * id, ...) so a delivery seen before is answered as a duplicate instead of
 * being processed twice. The memory layer is the default; a Redis layer comes
 * with `@apikit/redis`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { WebhookError } from "./Webhook.js"

/**
 * The store behind replay protection. `claim` is one atomic step (`SET key NX
 * PX ttl` in Redis): it remembers the key for `ttl` and answers whether it was
 * already there. `release` forgets a key, so a delivery whose handler failed
 * can be processed when the provider sends it again.
 *
 * @since 0.1.0
 * @category services
 */
export class ReplayGuard extends Context.Tag("@apikit/webhooks/ReplayGuard")<ReplayGuard, {
  /** Remembers `key` for `ttl`; `true` when it was already remembered (a replay). */
  readonly claim: (key: string, ttl: Duration.Duration) => Effect.Effect<boolean>
  readonly release: (key: string) => Effect.Effect<void>
}>() {}

/**
 * An in-memory guard for one process, bounded to `maxEntries` ids (the oldest
 * are dropped first). Expiry uses the Effect `Clock`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options: { readonly maxEntries?: number } = {}): Layer.Layer<ReplayGuard> =>
  Layer.sync(ReplayGuard, () => {
    const maxEntries = options.maxEntries ?? 100_000
    // Insertion order is expiry order only for equal TTLs, so expired entries are also checked on read.
    const seen = new Map<string, number>()
    const sweep = (now: number) => {
      for (const [key, expires] of seen) {
        if (expires > now && seen.size <= maxEntries) break
        seen.delete(key)
      }
    }
    return {
      claim: (key, ttl) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expires = seen.get(key)
          if (expires !== undefined && expires > now) return true
          seen.delete(key)
          seen.set(key, now + Duration.toMillis(ttl))
          sweep(now)
          return false
        }),
      release: (key) => Effect.sync(() => void seen.delete(key))
    }
  })

/**
 * Claims a delivery id for `ttl`, failing with `WebhookError` `Replayed` when it was seen before.
 *
 * @since 0.1.0
 * @category replay protection
 */
export const check = (
  scheme: string,
  id: string,
  ttl: Duration.DurationInput
): Effect.Effect<void, WebhookError, ReplayGuard> =>
  Effect.flatMap(ReplayGuard, (guard) =>
    Effect.flatMap(
      guard.claim(`${scheme}:${id}`, Duration.decode(ttl)),
      (seen) => seen ? Effect.fail(new WebhookError({ scheme, reason: "Replayed" })) : Effect.void
    ))
