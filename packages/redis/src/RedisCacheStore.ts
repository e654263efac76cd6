/**
 * A cache store shared by every instance of an app: what one instance
 * stored (or learned from a 304) answers the others. Each entry is one key
 * with a TTL of its freshness plus its stale-while-revalidate / stale-if-error
 * windows plus `keepStale` (the cache stage computes it), and each resource
 * has a set of its entry keys, so invalidating a URL drops every variant of it
 * for every credential in one script.
 *
 * When Redis cannot be reached every operation fails with `CacheStoreError`,
 * which the cache stage logs and counts, and the call goes on uncached: a
 * cache outage costs quota, never a call.
 *
 * @since 0.1.0
 */
import { CacheStore, CacheStoreError, type Entry } from "@apikit/cache/CacheStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { call, px, script } from "./internal/client.js"
import { Redis } from "./Redis.js"

// KEYS: entry, index. ARGV: value, ttl ms. The index lives as long as its longest entry.
const setLua = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1
`

// KEYS: index. Drops every entry listed in it, then the index.
const invalidateLua = `
local members = redis.call('SMEMBERS', KEYS[1])
for i = 1, #members do redis.call('DEL', members[i]) end
redis.call('DEL', KEYS[1])
return #members
`

interface Wire {
  readonly t: "R" | "V"
  readonly p?: unknown
  readonly s?: number
  readonly b?: string
  readonly n?: ReadonlyArray<string>
}

const encode = (entry: Entry): string =>
  JSON.stringify(
    entry._tag === "Vary"
      ? { t: "V", n: entry.names }
      : { t: "R", p: entry.policy, s: entry.status, b: Buffer.from(entry.body).toString("base64") }
  )

const decode = (text: string): Entry | undefined => {
  let wire: Wire
  try {
    wire = JSON.parse(text) as Wire
  } catch {
    return undefined
  }
  if (wire.t === "V" && Array.isArray(wire.n)) return { _tag: "Vary", names: wire.n }
  if (wire.t === "R" && typeof wire.s === "number" && typeof wire.b === "string" && typeof wire.p === "object") {
    return { _tag: "Response", policy: wire.p, status: wire.s, body: new Uint8Array(Buffer.from(wire.b, "base64")) }
  }
  return undefined
}

const failed = (operation: string) => (detail: string) =>
  new CacheStoreError({ message: `the Redis cache store could not ${operation}: ${detail}` })

/**
 * The store over the {@link Redis} connection in context; keys are
 * `<prefix>cache:<resource>|<variant>` and `<prefix>cache-index:<resource>`
 * (the resource is the integration and the masked URL; the variant holds a
 * credential fingerprint, never a secret).
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { Cache } from "@apikit/cache"
 * import { Redis, RedisCacheStore } from "@apikit/redis"
 * import { Layer } from "effect"
 *
 * // Cache.make({ ... }) over a store every instance shares
 * const store = RedisCacheStore.layer.pipe(Layer.provide(Redis.layerConfig()))
 */
export const layer: Layer.Layer<CacheStore, never, Redis> = Layer.effect(
  CacheStore,
  Effect.gen(function*() {
    const { client, prefix } = yield* Redis
    const set = script(client, "apikitCacheSet", setLua, 2)
    const invalidate = script(client, "apikitCacheInvalidate", invalidateLua, 1)
    const entryKey = (resource: string, variant: string) => `${prefix}cache:${resource}|${variant}`
    const indexKey = (resource: string) => `${prefix}cache-index:${resource}`
    return CacheStore.of({
      get: (resource, variant) =>
        call(() => client.get(entryKey(resource, variant))).pipe(
          Effect.mapError(failed("read an entry")),
          // A corrupt entry reads as none: it is replaced by the next response.
          Effect.map((text) => text === null ? undefined : decode(text))
        ),
      set: (resource, variant, entry, ttlMillis) =>
        call(() => set(entryKey(resource, variant), indexKey(resource), encode(entry), px(ttlMillis))).pipe(
          Effect.mapError(failed("store an entry")),
          Effect.asVoid
        ),
      invalidate: (resource) =>
        call(() => invalidate(indexKey(resource))).pipe(Effect.mapError(failed("invalidate")), Effect.asVoid)
    })
  })
)
