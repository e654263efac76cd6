/**
 * Where tokens live between calls: a small key → token map with expiry, kept
 * behind a service so a process-local memory store and a shared store (Redis,
 * issue 9) are interchangeable.
 *
 * Tokens are `Redacted` in memory. A store that persists them (Redis) encodes
 * a {@link StoredToken} with {@link StoredTokenJson}, which is the only place
 * where the secrets become plain strings: at the store boundary, never in a log.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as memory from "./internal/memoryTokenStore.js"

/**
 * A token set as the store keeps it. Times are epoch milliseconds on the Effect `Clock`.
 *
 * @since 0.1.0
 * @category models
 */
export class StoredToken extends Schema.Class<StoredToken>("@apikit/auth/StoredToken")({
  accessToken: Schema.Redacted(Schema.String),
  /** The token type the server returned (`Bearer` by default). */
  tokenType: Schema.optional(Schema.String),
  /** When the token was obtained; with `expiresAt` it gives the lifetime for the refresh-ahead margin. */
  obtainedAt: Schema.Number,
  /** When the access token expires; absent when the server did not say (then only a 401 retires it). */
  expiresAt: Schema.optional(Schema.Number),
  refreshToken: Schema.optional(Schema.Redacted(Schema.String)),
  scope: Schema.optional(Schema.String),
  idToken: Schema.optional(Schema.Redacted(Schema.String))
}) {}

/**
 * A {@link StoredToken} as a JSON string, for stores that persist tokens.
 * Encoding reveals the secrets into the string: keep that string inside the store.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StoredTokenJson: Schema.Schema<StoredToken, string> = Schema.parseJson(StoredToken)

/**
 * The store failed (a shared store is down or returned garbage). The policies
 * turn it into `AuthError{reason: "TokenStoreUnavailable", transient: true}`.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>()("TokenStoreError", {
  operation: Schema.Literal("get", "set", "delete", "lock"),
  key: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `The token store failed to ${this.operation} "${this.key}": ${this.detail}`
  }
}

/**
 * Options of {@link TokenStore} `set`.
 *
 * @since 0.1.0
 * @category options
 */
export interface SetOptions {
  /** Drop the entry after this long (client-credentials tokens); without it the entry stays until deleted. */
  readonly ttl?: Duration.DurationInput | undefined
}

/**
 * The token store: get, set and delete token sets by credential or connection key.
 *
 * @since 0.1.0
 * @category services
 */
export class TokenStore extends Context.Tag("@apikit/auth/TokenStore")<TokenStore, {
  readonly get: (key: string) => Effect.Effect<Option.Option<StoredToken>, TokenStoreError>
  readonly set: (key: string, token: StoredToken, options?: SetOptions) => Effect.Effect<void, TokenStoreError>
  readonly delete: (key: string) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs `effect` while holding `key`'s refresh lock, so app instances sharing
   * the store renew a token one at a time and the others read the result.
   * Optional: without it (the memory store) renewal is single-flight per process only.
   */
  readonly withLock?: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
}>() {
  /**
   * A process-local store; entries with a `ttl` disappear when it passes on the Effect `Clock`.
   *
   * @since 0.1.0
   */
  static readonly layerMemory: Layer.Layer<TokenStore> = Layer.sync(TokenStore, () => makeMemory())
}

/**
 * Makes a process-local store (what {@link TokenStore.layerMemory} provides).
 * Entries with a `ttl` are dropped when it passes: on a read, and in one sweep
 * at most once a minute of Clock time on a write, so tokens nobody reads again
 * do not pile up. Entries without one (authorization-code connections, whose
 * refresh token is the user's grant) stay until deleted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): Context.Tag.Service<TokenStore> => memory.make().store

/**
 * A process-local token store layer (the same as `TokenStore.layerMemory`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = TokenStore.layerMemory
