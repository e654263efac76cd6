/**
 * Where adaptive rate limiting keeps what servers said: "key K is blocked
 * until T". A service in context, so every client sharing a key (in this
 * process with {@link PauseStore.layerMemory}, across processes with a shared
 * store such as Redis) waits for the same T.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"

/**
 * The store could not be read or written (a shared store is down). The rate
 * limiter treats it as "no pause known" and logs it, so an outage of the store
 * does not stop calls.
 *
 * @since 0.1.0
 */
export class PauseStoreError extends Schema.TaggedError<PauseStoreError>()("PauseStoreError", {
  key: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `The pause store failed for "${this.key}": ${this.detail}; check the store's connection`
  }
}

/**
 * Keyed "blocked until" state, in epoch milliseconds on the Effect `Clock`.
 *
 * @since 0.1.0
 */
export class PauseStore extends Context.Tag("@apikit/rate-limit/PauseStore")<PauseStore, {
  /** Until when `key` is blocked: `undefined`, or a time already past, means it is not blocked. */
  readonly get: (key: string) => Effect.Effect<number | undefined, PauseStoreError>
  /** Blocks `key` until `until`; a later block already stored wins. */
  readonly pause: (key: string, until: number) => Effect.Effect<void, PauseStoreError>
}>() {
  /**
   * An in-memory store for one process. It holds one number per key that was
   * ever paused (keys are per integration or route, so they are few).
   *
   * @since 0.1.0
   */
  static readonly layerMemory: Layer.Layer<PauseStore> = Layer.sync(PauseStore, () => {
    const until = new Map<string, number>()
    return PauseStore.of({
      // The caller compares with its own clock reading, so a read needs none here.
      get: (key) => Effect.sync(() => until.get(key)),
      pause: (key, t) =>
        Effect.sync(() => {
          const current = until.get(key)
          if (current === undefined || current < t) until.set(key, t)
        })
    })
  })
}
