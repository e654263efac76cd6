/**
 * A {@link CircuitBreakerStore} shared by every instance of an app: one
 * circuit per key in Redis, so a provider outage seen by one instance opens
 * the circuit for all of them, and half-open probes are shared (`probes`
 * probes in total, not per instance).
 *
 * Every operation is one Lua script over one key (atomic, one round trip).
 * Probe leases are timestamps inside the circuit: a lease whose holder crashed
 * frees its slot when it expires. A circuit nobody touches for `idleTtl`
 * (default 1 hour, plus the open time while open) is dropped, which is the
 * same as a fresh closed circuit; an isolated circuit is dropped too, so keep
 * calling `isolate` (or use a longer `idleTtl`) to hold one open by hand.
 *
 * When Redis cannot be reached the store falls back to a per-instance memory
 * store (`onUnavailable: "local"`, the default): each instance trips its own
 * breaker until Redis is back. `"reject"` fails calls fast instead (a
 * `Rejected` permit in state `Open`, retry after `rejectFor`), for providers
 * where an unguarded burst is worse than a pause.
 *
 * @since 0.1.0
 */
import * as Store from "@apikit/circuit-breaker/CircuitBreakerStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { lua } from "./internal/circuitLua.js"
import { call, outageLog, px, script } from "./internal/client.js"
import { Redis } from "./Redis.js"

/**
 * How the store is set up.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** What happens while Redis is unreachable (see the module docs). Default `"local"`. */
  readonly onUnavailable?: "local" | "reject" | undefined
  /** With `"reject"`: the retry-after of calls rejected during the outage. Default 1 second. */
  readonly rejectFor?: Duration.DurationInput | undefined
  /** How long an untouched circuit is kept. Default 1 hour. */
  readonly idleTtl?: Duration.DurationInput | undefined
}

interface Reply {
  readonly permit?: {
    readonly _tag: "Call" | "Probe" | "Rejected"
    readonly generation?: number
    readonly opened?: number
    readonly lease?: number
    readonly state?: Store.State
    readonly retryAfterMillis?: number
  }
  readonly transition?: {
    readonly from: Store.State
    readonly to: Store.State
    readonly reason: Store.Reason
    readonly at: number
    readonly openMillis?: number
    readonly detail?: string | {
      readonly i: number
      readonly run?: number
      readonly bad?: number
      readonly calls?: number
    }
  }
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`

/** Words a trip the way the memory store does. */
const describeTrip = (
  config: Store.Config,
  trip: { readonly i: number; readonly run?: number; readonly bad?: number; readonly calls?: number }
) => {
  const policy = config.trip[trip.i]
  if (policy === undefined || policy._tag === "Consecutive") return `${trip.run ?? 0} consecutive failures`
  const bad = trip.bad ?? 0
  const calls = trip.calls ?? 0
  const window = policy.window._tag === "Count"
    ? `the last ${calls} calls`
    : `${calls} calls in the last ${policy.window.millis} ms`
  const kind = policy._tag === "SlowCallRate" ? "slow-call" : "failure"
  return `${kind} rate ${pct(bad / calls)} ≥ ${pct(policy.threshold)} over ${window}`
}

const toTransition = (
  key: string,
  config: Store.Config | undefined,
  t: Reply["transition"]
): Store.Transition | undefined => {
  if (t === undefined) return undefined
  const detail = t.detail === undefined
    ? undefined
    : typeof t.detail === "string"
    ? t.detail
    : config === undefined
    ? undefined
    : describeTrip(config, t.detail)
  return {
    key,
    from: t.from,
    to: t.to,
    reason: t.reason,
    at: t.at,
    ...(t.openMillis === undefined ? {} : { openMillis: t.openMillis }),
    ...(detail === undefined ? {} : { detail })
  }
}

const toPermit = (p: NonNullable<Reply["permit"]>): Store.Permit => {
  switch (p._tag) {
    case "Call":
      return { _tag: "Call", generation: p.generation ?? 0, opened: p.opened ?? 0 }
    case "Probe":
      return { _tag: "Probe", generation: p.generation ?? 0, opened: p.opened ?? 0, lease: p.lease ?? 0 }
    case "Rejected": {
      const retry = p.retryAfterMillis ?? 0
      return { _tag: "Rejected", state: p.state ?? "Open", retryAfterMillis: retry < 0 ? Infinity : retry }
    }
  }
}

const signatures = new WeakMap<Store.Config, { readonly json: string; readonly sig: string }>()
/** The config as the script takes it, and the signature that decides whether trackers start over (as in the memory store). */
const encodeConfig = (config: Store.Config) => {
  let encoded = signatures.get(config)
  if (encoded === undefined) {
    encoded = { json: JSON.stringify({ trip: config.trip, probes: config.probes }), sig: JSON.stringify(config.trip) }
    signatures.set(config, encoded)
  }
  return encoded
}

/**
 * The store over the {@link Redis} connection in context; keys are `<prefix>cb:<key>`.
 *
 * @since 0.1.0
 * @category layers
 * @example
 * import { CircuitBreaker } from "@apikit/circuit-breaker"
 * import { Redis, RedisCircuitBreakerStore } from "@apikit/redis"
 * import { Effect, Layer } from "effect"
 *
 * const breaker = CircuitBreaker.make({ key: "crm" }).pipe(
 *   Effect.provide(RedisCircuitBreakerStore.layer().pipe(Layer.provide(Redis.layerConfig())))
 * )
 */
export const layer = (options: Options = {}): Layer.Layer<Store.CircuitBreakerStore, never, Redis> =>
  Layer.effect(
    Store.CircuitBreakerStore,
    Effect.gen(function*() {
      const { client, prefix } = yield* Redis
      const warn = outageLog()
      const local = Store.makeMemory()
      const circuit = script(client, "apikitCircuitV1", lua, 1)
      const idle = px(Duration.toMillis(options.idleTtl ?? Duration.hours(1)))
      const rejectFor = Duration.toMillis(options.rejectFor ?? Duration.seconds(1))
      const reject = options.onUnavailable === "reject"
      const keyOf = (key: string) => `${prefix}cb:${key}`

      const run = <A>(
        key: string,
        args: ReadonlyArray<string | number>,
        onReply: (reply: Reply & Store.Snapshot) => A,
        onLocal: Effect.Effect<A>,
        onReject: () => A
      ): Effect.Effect<A> =>
        call(() => circuit(keyOf(key), ...args) as Promise<string>).pipe(
          Effect.map((json) => onReply(JSON.parse(json))),
          Effect.catchAll((detail) =>
            Effect.zipRight(
              warn("apikit redis: the circuit store is unreachable; using the fallback", {
                key,
                detail,
                fallback: reject ? "reject" : "local"
              }),
              reject ? Effect.sync(onReject) : onLocal
            )
          )
        )

      return {
        acquire: (r) => {
          const { json, sig } = encodeConfig(r.config)
          return run(
            r.key,
            ["acquire", r.now, idle, json, sig, r.leaseMillis],
            (reply): Store.Acquired => ({
              permit: toPermit(reply.permit ?? { _tag: "Call" }),
              transition: toTransition(r.key, r.config, reply.transition)
            }),
            local.acquire(r),
            () => ({ permit: { _tag: "Rejected", state: "Open", retryAfterMillis: rejectFor }, transition: undefined })
          )
        },
        record: (r) =>
          run(
            r.key,
            [
              "record",
              r.now,
              idle,
              encodeConfig(r.config).json,
              JSON.stringify(r.permit),
              r.outcome._tag,
              r.outcome.durationMillis,
              r.openMillis
            ],
            (reply) => toTransition(r.key, r.config, reply.transition),
            local.record(r),
            () => undefined
          ),
        isolate: (r) =>
          run(
            r.key,
            ["isolate", r.now, idle],
            (reply) => toTransition(r.key, undefined, reply.transition),
            local.isolate(r),
            () => undefined
          ),
        reset: (r) =>
          run(
            r.key,
            ["reset", r.now, idle],
            (reply) => toTransition(r.key, undefined, reply.transition),
            local.reset(r),
            () => undefined
          ),
        snapshot: (r) =>
          run(
            r.key,
            ["snapshot", r.now, idle],
            (reply): Store.Snapshot => ({
              state: reply.state,
              opened: reply.opened,
              retryAfterMillis: reply.retryAfterMillis === undefined
                ? undefined
                : reply.retryAfterMillis < 0
                ? Infinity
                : reply.retryAfterMillis
            }),
            local.snapshot(r),
            () => ({ state: "Open", opened: 0, retryAfterMillis: rejectFor })
          )
      }
    })
  )
