/**
 * A {@link TokenStore} shared by every instance of an app, with the
 * distributed refresh lock `@apikit/auth` takes around a renewal: when N
 * instances find the token expiring at once, one of them asks the token
 * endpoint and the others wait, re-read, and use what it stored. With
 * rotating refresh tokens that matters twice over: the second request would
 * present a refresh token the server has already rotated away.
 *
 * The lock is `SET lock owner NX PX lockTtl`, released only by its owner (a
 * compare-and-delete script), so a crashed holder delays the others by at most
 * `lockTtl`. Waiters poll it every `lockPoll` for at most `lockWait`.
 *
 * When Redis cannot be reached the store fails closed by default
 * (`onUnavailable: "fail"`): calls fail with `TokenStoreError`, which the
 * auth policies report as a transient `AuthError` (`TokenStoreUnavailable`).
 * A per-instance fallback would let an instance rotate a refresh token and
 * keep the new one to itself, which loses the connection for everyone else.
 * For client-credentials tokens, which can always be fetched again,
 * `"local"` falls back to a per-instance memory store and lock.
 *
 * @since 0.1.0
 */
import { StoredToken, TokenStore, TokenStoreError } from "@apikit/auth/TokenStore"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { call, outageLog, px, script } from "./internal/client.js"
import { Redis } from "./Redis.js"

/**
 * How the store is set up.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"fail"`. */
  readonly onUnavailable?: "fail" | "local" | undefined
  /** How long entries stored without a ttl (refresh-token connections) are kept after their last write. Default 30 days. */
  readonly retain?: Duration.DurationInput | undefined
  /** How long a refresh lock is held at most if its holder never releases it. Default 15 seconds. */
  readonly lockTtl?: Duration.DurationInput | undefined
  /** How long to wait for another instance's lock before failing with `TokenStoreError`. Default: `lockTtl` + 1 second. */
  readonly lockWait?: Duration.DurationInput | undefined
  /** How often a waiter checks the lock. Default 25 ms. */
  readonly lockPoll?: Duration.DurationInput | undefined
}

// `until` mirrors the Redis expiry on the Effect Clock, so the store agrees with the memory store under TestClock.
const Entry = Schema.parseJson(Schema.Struct({ until: Schema.NullOr(Schema.Number), token: StoredToken }))
const decodeEntry = Schema.decodeUnknown(Entry)
const encodeEntry = Schema.encode(Entry)

const releaseLua = `
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0
`

class Busy {
  readonly _tag = "Busy"
}

/**
 * The store over the {@link Redis} connection in context; keys are
 * `<prefix>token:<key>` and `<prefix>token-lock:<key>`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { OAuth2 } from "@apikit/auth"
 * import { Redis, RedisTokenStore } from "@apikit/redis"
 * import { Layer } from "effect"
 *
 * // every instance shares one token and one refresh
 * const tokens = RedisTokenStore.layer().pipe(Layer.provide(Redis.layerConfig()))
 */
export const layer = (options: Options = {}): Layer.Layer<TokenStore, never, Redis> =>
  Layer.effect(
    TokenStore,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = yield* Effect.provide(TokenStore, TokenStore.layerMemory)
      const useLocal = options.onUnavailable === "local"
      const retainMillis = Duration.toMillis(options.retain ?? Duration.days(30))
      const lockTtl = Duration.toMillis(options.lockTtl ?? Duration.seconds(15))
      const lockWait = options.lockWait === undefined ? lockTtl + 1000 : Duration.toMillis(options.lockWait)
      const lockPoll = Duration.decode(options.lockPoll ?? Duration.millis(25))
      const release = script(client, "apikitReleaseLockV1", releaseLua, 1)
      const keyOf = (key: string) => `${prefix}token:${key}`
      const lockOf = (key: string) => `${prefix}token-lock:${key}`

      const fallback =
        <A>(operation: TokenStoreError["operation"], key: string, onLocal: Effect.Effect<A, TokenStoreError>) =>
        (
          detail: string
        ) =>
          useLocal
            ? Effect.zipRight(
              warn("apikit redis: the token store is unreachable; using this instance's tokens", {
                key,
                operation,
                detail
              }),
              onLocal
            )
            : Effect.fail(new TokenStoreError({ operation, key, detail: `Redis: ${detail}` }))

      const decode = (key: string, raw: string) =>
        Effect.gen(function*() {
          // The decode error would quote the stored value, secrets included: say only that it is not a token.
          const entry = yield* Effect.mapError(
            decodeEntry(raw),
            () =>
              new TokenStoreError({ operation: "get", key, detail: "the stored value is not a token set; delete it" })
          )
          const now = yield* Clock.currentTimeMillis
          return entry.until !== null && now >= entry.until ? Option.none() : Option.some(entry.token)
        })

      const get = (key: string) =>
        call(() => client.get(keyOf(key))).pipe(Effect.matchEffect({
          onFailure: fallback("get", key, local.get(key)),
          onSuccess: (raw) => raw === null ? Effect.succeed(Option.none<StoredToken>()) : decode(key, raw)
        }))

      const set = (
        key: string,
        token: StoredToken,
        setOptions?: { readonly ttl?: Duration.DurationInput | undefined }
      ) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const ttl = setOptions?.ttl === undefined ? undefined : Duration.toMillis(setOptions.ttl)
          const value = yield* Effect.orDie(encodeEntry({ until: ttl === undefined ? null : now + ttl, token }))
          yield* call(() => client.set(keyOf(key), value, "PX", px(ttl ?? retainMillis))).pipe(
            Effect.catchAll(fallback("set", key, local.set(key, token, setOptions)))
          )
        })

      const acquire = (key: string, owner: string) =>
        call(() => client.set(lockOf(key), owner, "PX", px(lockTtl), "NX")).pipe(
          Effect.flatMap((reply) => reply === "OK" ? Effect.succeed(true) : Effect.fail(new Busy())),
          Effect.retry({ schedule: Schedule.spaced(lockPoll), while: (e) => e instanceof Busy }),
          Effect.timeoutFail({
            duration: Duration.millis(lockWait),
            onTimeout: () =>
              new TokenStoreError({
                operation: "lock",
                key,
                detail: `another instance held the refresh lock for over ${lockWait} ms`
              })
          }),
          Effect.catchAll((e) =>
            e instanceof TokenStoreError
              ? Effect.fail(e)
              : fallback("lock", key, Effect.succeed(false))(typeof e === "string" ? e : "lock busy")
          )
        )

      return TokenStore.of({
        get,
        set,
        delete: (key) =>
          Effect.zipRight(
            local.delete(key),
            call(() => client.del(keyOf(key))).pipe(
              Effect.asVoid,
              Effect.catchAll(fallback("delete", key, Effect.void))
            )
          ),
        withLock: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) =>
          Effect.gen(function*() {
            const owner = `${(yield* Random.nextInt).toString(36)}.${(yield* Random.nextInt).toString(36)}`
            const held = yield* acquire(key, owner)
            // Interrupted between the SET and here, the lock still goes away after lockTtl.
            return yield* held
              ? Effect.ensuring(effect, Effect.ignore(call(() => release(lockOf(key), owner))))
              : effect
          })
      })
    })
  )
