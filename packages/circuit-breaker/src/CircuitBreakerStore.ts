/**
 * Where circuit state lives. The store is a handful of atomic operations
 * (acquire a permit, record an outcome, isolate, reset, read), each taking
 * plain data and the current time, so a shared implementation (Redis with one
 * Lua script per operation) can run them in a single round trip and several
 * instances of an app see one circuit per key.
 *
 * Half-open probes are leases that expire: a probe whose caller crashed (or
 * never reported back) frees its slot when the lease runs out, so a circuit
 * can never stay stuck half-open.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as memory from "./internal/memory.js"
import * as sync from "./internal/sync.js"

/**
 * The state of one circuit. `Isolated` is open by hand (see `isolate`) and
 * stays so until `reset`.
 *
 * @since 0.1.0
 * @category models
 */
export type State = "Closed" | "Open" | "HalfOpen" | "Isolated"

/**
 * The window a rate is measured over: the last `size` calls, or the calls of
 * the last `millis` (in ten buckets, so calls age out a tenth of the window at a time).
 *
 * @since 0.1.0
 * @category trip policies
 */
export type Window =
  | { readonly _tag: "Count"; readonly size: number }
  | { readonly _tag: "Time"; readonly millis: number }

/**
 * When a closed circuit opens. Plain data, so a shared store can evaluate it.
 *
 * @since 0.1.0
 * @category trip policies
 */
export type TripPolicy =
  | { readonly _tag: "Consecutive"; readonly failures: number }
  | {
    readonly _tag: "FailureRate"
    /** Fraction of failed calls (0 < threshold ≤ 1) at or above which the circuit opens. */
    readonly threshold: number
    readonly window: Window
    /** Calls the window must hold before the rate is trusted. */
    readonly minimumCalls: number
  }
  | {
    readonly _tag: "SlowCallRate"
    /** Fraction of slow calls (0 < threshold ≤ 1) at or above which the circuit opens. */
    readonly threshold: number
    /** A call taking longer than this is slow, whether it succeeded or failed. */
    readonly slowerThanMillis: number
    readonly window: Window
    readonly minimumCalls: number
  }

/**
 * What a store needs to know about a breaker: its trip policies (any of them
 * opens the circuit) and how many successful probes close it again.
 *
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly trip: ReadonlyArray<TripPolicy>
  readonly probes: number
}

/**
 * The answer to a call that asks to run. `Call` runs normally; `Probe` is a
 * half-open trial holding `lease` until it reports or the lease expires;
 * `Rejected` must fail fast. `generation` ties the outcome to the circuit state
 * it was admitted in, so late outcomes of an older state are ignored. `opened`
 * counts the opens since the circuit was last closed (it picks the next open duration).
 *
 * @since 0.1.0
 * @category models
 */
export type Permit =
  | { readonly _tag: "Call"; readonly generation: number; readonly opened: number }
  | { readonly _tag: "Probe"; readonly generation: number; readonly opened: number; readonly lease: number }
  | { readonly _tag: "Rejected"; readonly state: State; readonly retryAfterMillis: number }

/**
 * How an admitted call ended, as the breaker classified it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly _tag: "Success" | "Failure" | "Ignored"
  readonly durationMillis: number
}

/**
 * Why a circuit changed state.
 *
 * @since 0.1.0
 * @category models
 */
export type Reason = "Tripped" | "ProbeFailed" | "OpenElapsed" | "ProbesSucceeded" | "Isolated" | "Reset"

/**
 * One state change of one circuit. `openMillis` is set when it opened;
 * `detail` says which policy tripped and by how much.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transition {
  readonly key: string
  readonly from: State
  readonly to: State
  readonly reason: Reason
  /** When it happened, in epoch milliseconds on the Effect `Clock`. */
  readonly at: number
  readonly openMillis?: number
  readonly detail?: string
}

/**
 * A permit and, when asking for it moved the circuit (open → half-open), that transition.
 *
 * @since 0.1.0
 * @category models
 */
export interface Acquired {
  readonly permit: Permit
  readonly transition: Transition | undefined
}

/**
 * A read of one circuit. `retryAfterMillis` is set when calls are being rejected.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly state: State
  readonly opened: number
  readonly retryAfterMillis: number | undefined
}

/**
 * What `acquire` is asked.
 *
 * @since 0.1.0
 * @category models
 */
export interface AcquireRequest {
  readonly key: string
  readonly config: Config
  readonly now: number
  /** How long a probe lease lasts if its holder never reports. */
  readonly leaseMillis: number
}

/**
 * What `record` is told; `openMillis` is how long to open for if this outcome trips the circuit.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordRequest {
  readonly key: string
  readonly config: Config
  readonly permit: Exclude<Permit, { readonly _tag: "Rejected" }>
  readonly outcome: Outcome
  readonly openMillis: number
  readonly now: number
}

/**
 * The store operations. Each runs atomically per key.
 *
 * @since 0.1.0
 * @category services
 */
export interface Store {
  /** Admits, probes or rejects a call; moves an open circuit whose time is up to half-open. */
  readonly acquire: (request: AcquireRequest) => Effect.Effect<Acquired>
  /** Records an admitted call's outcome. */
  readonly record: (request: RecordRequest) => Effect.Effect<Transition | undefined>
  /** Forces the circuit open until `reset`. */
  readonly isolate: (request: { readonly key: string; readonly now: number }) => Effect.Effect<Transition | undefined>
  /** Closes the circuit and forgets its history. */
  readonly reset: (request: { readonly key: string; readonly now: number }) => Effect.Effect<Transition | undefined>
  readonly snapshot: (request: { readonly key: string; readonly now: number }) => Effect.Effect<Snapshot>
}

/**
 * The circuit store service. Use {@link layerMemory} for one process;
 * `@apikit/redis` provides a shared one.
 *
 * @since 0.1.0
 * @category services
 */
export class CircuitBreakerStore extends Context.Tag("@apikit/circuit-breaker/CircuitBreakerStore")<
  CircuitBreakerStore,
  Store
>() {
  /**
   * An in-process store: circuits in a Map, one per key, created on first use
   * and forgotten after an hour unused (see {@link MemoryOptions}).
   *
   * @since 0.1.0
   */
  static readonly layerMemory: Layer.Layer<CircuitBreakerStore> = Layer.sync(CircuitBreakerStore, () => makeMemory())
}

/**
 * Options of the in-process store.
 *
 * @since 0.1.0
 * @category options
 */
export interface MemoryOptions {
  /**
   * A circuit nobody has called for this long on the Clock is forgotten (default
   * 1 hour), so a breaker keyed per end user keeps only the circuits in use.
   * Isolated circuits are kept until `reset`; an open one until its open time
   * has passed by this much. What a call then finds is a fresh closed circuit.
   */
  readonly idleTimeout?: Duration.DurationInput | undefined
}

/**
 * Makes an in-process store (what {@link CircuitBreakerStore.layerMemory} provides).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: MemoryOptions = {}): Store => {
  const circuits = memory.make(Duration.toMillis(options.idleTimeout ?? Duration.hours(1)))
  const acquire = (r: AcquireRequest) => circuits.acquire(r.key, r.config, r.now, r.leaseMillis)
  const record = (r: RecordRequest) => circuits.record(r.key, r.config, r.permit, r.outcome, r.openMillis, r.now)
  const store: Store & { readonly [sync.fastPath]: sync.FastPath } = {
    acquire: (r) => Effect.sync(() => acquire(r)),
    record: (r) => Effect.sync(() => record(r)),
    // Private: the breaker's shortcut for this store, not part of the contract.
    [sync.fastPath]: { acquire, record },
    isolate: (r) => Effect.sync(() => circuits.isolate(r.key, r.now)),
    reset: (r) => Effect.sync(() => circuits.reset(r.key, r.now)),
    snapshot: (r) => Effect.sync(() => circuits.snapshot(r.key, r.now))
  }
  return store
}

/**
 * The in-process store as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CircuitBreakerStore> = CircuitBreakerStore.layerMemory

/**
 * The in-process store as a layer, with options (an idle timeout other than 1 hour).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemoryWith = (options: MemoryOptions): Layer.Layer<CircuitBreakerStore> =>
  Layer.sync(CircuitBreakerStore, () => makeMemory(options))
