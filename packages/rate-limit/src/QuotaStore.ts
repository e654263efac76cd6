/**
 * Where adaptive rate limiting keeps what servers said about a key's quota:
 * the server's limit and window, what remains until when, the calls admitted
 * and not answered yet, and "no call before T" after a 429. A service in
 * context, so every client sharing a key (in this process with
 * {@link QuotaStore.layerMemory}, across processes with a shared store such as
 * `@apikit/redis`'s) shares one budget and one reset.
 *
 * The limiter asks {@link QuotaStore.acquire} before each call and tells
 * {@link QuotaStore.release} what the answer said. Anything else that learns a
 * quota (a GraphQL cost report in points, say) tells {@link report}.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Keyed from "./internal/keyed.js"
import * as Quota from "./internal/quota.js"

/**
 * The store could not be read or written (a shared store is down). The limiter
 * then sends without the learned quota (the configured limit still holds) and
 * logs it, so an outage of the store does not stop calls.
 *
 * @since 0.1.0
 * @category errors
 */
export class QuotaStoreError extends Schema.TaggedError<QuotaStoreError>()("QuotaStoreError", {
  key: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `The quota store failed for "${this.key}": ${this.detail}; check the store's connection`
  }
}

/**
 * What a server said about a key's quota, in absolute epoch milliseconds on
 * the Effect `Clock`. Every field is optional; units are the limiter's (calls,
 * or points when calls declare a cost).
 *
 * @since 0.1.0
 * @category models
 */
export type Observation = Quota.Observation

/**
 * The answer to "may a call of this cost go now?": `Admitted` in an epoch (give
 * it back to {@link QuotaStore.release}), `Wait` until a time, or `TooCostly`
 * (more than the server's whole limit: it can never go).
 *
 * @since 0.1.0
 * @category models
 */
export type Admission = Quota.Admission

/**
 * A key's learned quota, for metrics and logs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** The server's limit per window, when it said one. */
  readonly limit: number | undefined
  /** The server's window in ms, when it said one. */
  readonly window: number | undefined
  /** What is left to admit now (the server's remaining minus calls in flight); undefined when unknown. */
  readonly available: number | undefined
  /** Whether this observation changed the server's limit or window. */
  readonly changed: boolean
}

/**
 * A call's claim on the quota, from `acquire` to `release`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Ticket {
  readonly cost: number
  readonly epoch: number
  /** False when the call was never sent (another gate refused it). */
  readonly sent: boolean
}

/**
 * How long, in ms, a call the limiter never hears the end of (its fiber was
 * interrupted) can matter: a window nobody answered is held open no longer
 * than this past its reset (nor longer than a window), and while nothing is
 * known an epoch lasts at least this long. A store implements it as the
 * memory store does; the `StoreContracts.quotaStore` suite checks it.
 *
 * @since 0.1.0
 * @category constants
 */
export const presumedLost: number = Quota.presumedLost

/**
 * Keyed quota state. `window` arguments are the configured window in ms, used
 * until the server names its own.
 *
 * @since 0.1.0
 * @category services
 */
export class QuotaStore extends Context.Tag("@apikit/rate-limit/QuotaStore")<QuotaStore, {
  /**
   * Admits `cost` now (counting it in flight), or says until when to wait.
   * `limit` per `window` (ms) is the configured limit: a server limit above it
   * is capped to it (when the server names its window).
   */
  readonly acquire: (
    key: string,
    cost: number,
    limit: number,
    window: number
  ) => Effect.Effect<Admission, QuotaStoreError>
  /**
   * The call of `ticket` is over; `observation` is what its answer said, if
   * anything. A call whose fiber was interrupted is never released: a store
   * keeps it counted for its epoch and the next, and bounds how long that
   * matters by {@link presumedLost}.
   */
  readonly release: (
    key: string,
    ticket: Ticket,
    observation: Observation | undefined,
    window: number
  ) => Effect.Effect<Snapshot, QuotaStoreError>
  /** What the server said outside a call (a report in points, say); it answers the current window. */
  readonly observe: (key: string, observation: Observation, window: number) => Effect.Effect<Snapshot, QuotaStoreError>
}>() {
  /**
   * An in-memory store for one process. Idle keys (no window or pause in
   * progress, unused for `idle`, default 10 minutes, as Redis expires them) are
   * forgotten, a few at each new key, so a million keys touched once do not
   * stay in memory.
   *
   * @since 0.1.0
   */
  static readonly layerMemory: Layer.Layer<QuotaStore> = Layer.sync(QuotaStore, () => makeMemory())
}

/**
 * The memory store itself, for stores that keep a per-instance copy (the Redis
 * store's fallback). `idle`: how long an idle key is kept, in ms.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (idle = 600_000): QuotaStore["Type"] => {
  const states = Keyed.make<Quota.State>((s, now) => Quota.expired(s, now, idle))
  const stateOf = (key: string, now: number): Quota.State =>
    states.get(key) ?? states.insert(key, now, Quota.empty(now))
  const snapshot = (s: Quota.State, now: number, changed: boolean): Snapshot => ({
    limit: s.limit || undefined,
    window: s.window || undefined,
    available: s.remaining < 0 || (s.resetAt > 0 && now >= s.resetAt)
      ? undefined
      : Math.max(0, s.remaining - s.inflight - s.previous),
    changed
  })
  const sync: Quota.SyncStore = {
    acquire: (key, now, cost, limit, window) => Quota.acquire(stateOf(key, now), now, cost, limit, window),
    settle: (key, now, cost, epoch, sent, observation, window) => {
      const s = stateOf(key, now)
      const changed = epoch === undefined
        ? Quota.observe(s, now, observation ?? {}, undefined, window)
        : Quota.release(s, now, cost, epoch, sent, observation, window)
      return snapshot(s, now, changed)
    }
  }
  const store = QuotaStore.of({
    acquire: (key, cost, limit, window) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => sync.acquire(key, clock.unsafeCurrentTimeMillis(), cost, limit, window))
      ),
    release: (key, ticket, observation, window) =>
      Effect.clockWith((clock) =>
        Effect.sync(() =>
          sync.settle(key, clock.unsafeCurrentTimeMillis(), ticket.cost, ticket.epoch, ticket.sent, observation, window)
        )
      ),
    observe: (key, observation, window) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => sync.settle(key, clock.unsafeCurrentTimeMillis(), 0, undefined, true, observation, window))
      )
  })
  return Object.assign(store, { [Quota.syncPath]: sync })
}

/**
 * A quota learned outside a call, in the limiter's units (calls, or points when
 * calls declare a cost): a GraphQL API's cost report (`limit` points per
 * `window`, `remaining` points until `reset`), say. Every limiter of `key` that
 * shares this store obeys it from the next call.
 *
 * @since 0.1.0
 * @category utils
 * @example
 * import { QuotaStore } from "@apikit/rate-limit"
 *
 * // Shopify GraphQL: extensions.cost.throttleStatus
 * QuotaStore.report("shopify", { limit: 1000, remaining: 950, reset: "2.5 seconds" })
 */
export const report = (
  key: string,
  quota: {
    readonly limit?: number | undefined
    readonly remaining?: number | undefined
    /** Time until `remaining` is back to `limit`. */
    readonly reset?: Duration.DurationInput | undefined
    readonly window?: Duration.DurationInput | undefined
  }
): Effect.Effect<Snapshot, QuotaStoreError, QuotaStore> =>
  Effect.flatMap(QuotaStore, (store) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const reset = millisOf(quota.reset)
      const window = millisOf(quota.window)
      return store.observe(key, {
        limit: quota.limit,
        remaining: quota.remaining,
        resetAt: reset === undefined ? undefined : now + reset,
        window
      }, window ?? reset ?? 1000)
    }))

const millisOf = (input: Duration.DurationInput | undefined): number | undefined => {
  if (input === undefined) return undefined
  const d = Option.getOrUndefined(Duration.decodeUnknown(input))
  return d !== undefined && Duration.isFinite(d) ? Duration.toMillis(d) : undefined
}
