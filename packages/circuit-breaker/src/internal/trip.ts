import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import type * as Store from "../CircuitBreakerStore.js"

/** Milliseconds of a duration input, or NaN when it is not one (validation reports it, nothing throws). */
export const millisOf = (input: Duration.DurationInput): number =>
  Option.match(Duration.decodeUnknown(input), { onNone: () => NaN, onSome: Duration.toMillis })

/** The trip policy documented at `CircuitBreaker.consecutive`. */
export const consecutive = (failures = 5): Store.TripPolicy => ({ _tag: "Consecutive", failures })

/** The trip policy documented at `CircuitBreaker.failureRate`. */
export const failureRate = (options: {
  readonly threshold: number
  readonly window: number
  readonly minimumCalls?: number | undefined
}): Store.TripPolicy => ({
  _tag: "FailureRate",
  threshold: options.threshold,
  window: { _tag: "Count", size: options.window },
  minimumCalls: options.minimumCalls ?? options.window
})

/** The trip policy documented at `CircuitBreaker.failureRateTimed`. */
export const failureRateTimed = (options: {
  readonly threshold: number
  readonly duration: Duration.DurationInput
  readonly minimumThroughput?: number | undefined
}): Store.TripPolicy => ({
  _tag: "FailureRate",
  threshold: options.threshold,
  window: { _tag: "Time", millis: millisOf(options.duration) },
  minimumCalls: options.minimumThroughput ?? 10
})

/** The trip policy documented at `CircuitBreaker.slowCallRate`. */
export const slowCallRate = (options: {
  readonly threshold: number
  readonly slowerThan: Duration.DurationInput
  readonly window?: number | undefined
  readonly duration?: Duration.DurationInput | undefined
  readonly minimumCalls?: number | undefined
}): Store.TripPolicy => {
  const window: Store.Window = options.duration === undefined
    ? { _tag: "Count", size: options.window ?? 100 }
    : { _tag: "Time", millis: millisOf(options.duration) }
  return {
    _tag: "SlowCallRate",
    threshold: options.threshold,
    slowerThanMillis: millisOf(options.slowerThan),
    window,
    minimumCalls: options.minimumCalls ?? (window._tag === "Count" ? window.size : 10)
  }
}

/** The trip policies of the options, in order: one, several, or the default of 5 consecutive failures. */
export const policiesOf = (trip: CircuitBreaker.Options["trip"]): ReadonlyArray<Store.TripPolicy> =>
  trip === undefined
    ? [consecutive()]
    : Array.isArray(trip)
    ? trip as ReadonlyArray<Store.TripPolicy>
    : [trip as Store.TripPolicy]

/** Whether any policy needs each call's end time (slow calls, time windows). */
export const isTimed = (trip: ReadonlyArray<Store.TripPolicy>): boolean =>
  trip.some((p) => p._tag !== "Consecutive" && (p._tag === "SlowCallRate" || p.window._tag === "Time"))

/** Every problem with the options, in words; empty when they are usable. */
export const problems = (
  options: CircuitBreaker.Options,
  trip: ReadonlyArray<Store.TripPolicy>,
  probes: number
): Array<string> => {
  const out: Array<string> = []
  const positiveInt = (name: string, n: number) => {
    if (!Number.isInteger(n) || n < 1) out.push(`${name} must be a whole number ≥ 1 (got ${n})`)
  }
  const fraction = (name: string, x: number) => {
    if (!(x > 0 && x <= 1)) out.push(`${name} must be a fraction in (0, 1], e.g. 0.5 (got ${x})`)
  }
  const millis = (name: string, ms: number, min = 0) => {
    if (!Number.isFinite(ms) || ms < min) out.push(`${name} must be a finite duration ≥ ${min} ms (got ${ms})`)
  }
  if (trip.length === 0) out.push("trip must name at least one policy")
  for (const p of trip) {
    if (p._tag === "Consecutive") {
      positiveInt("consecutive(failures)", p.failures)
      continue
    }
    const name = p._tag === "FailureRate" ? "failureRate" : "slowCallRate"
    fraction(`${name} threshold`, p.threshold)
    positiveInt(`${name} minimumCalls`, p.minimumCalls)
    if (p.window._tag === "Count") positiveInt(`${name} window`, p.window.size)
    else millis(`${name} duration`, p.window.millis, 1)
    if (p._tag === "SlowCallRate") millis("slowCallRate slowerThan", p.slowerThanMillis)
  }
  positiveInt("halfOpen.probes", probes)
  if (options.halfOpen?.lease !== undefined) {
    millis("halfOpen.lease", millisOf(options.halfOpen.lease), 1)
  }
  if (options.maxOpenDuration !== undefined) {
    millis("maxOpenDuration", millisOf(options.maxOpenDuration))
  }
  if (options.openDuration !== undefined && !Schedule.isSchedule(options.openDuration)) {
    millis("openDuration", millisOf(options.openDuration))
  }
  return out
}
