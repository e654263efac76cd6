import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import type * as Store from "../CircuitBreakerStore.js"

/** The state gauge's values, in order of severity. */
export const stateValue: Readonly<Record<Store.State, number>> = { Closed: 0, HalfOpen: 1, Open: 2, Isolated: 3 }

/** Circuit state per key: 0 closed, 1 half-open, 2 open, 3 isolated. */
export const stateGauge = Metric.gauge("apikit_circuit_breaker_state", {
  description: "Circuit state per key: 0 closed, 1 half-open, 2 open, 3 isolated"
})

/** Admitted calls per key and outcome (success, failure, ignored). */
export const calls = Metric.counter("apikit_circuit_breaker_calls_total", {
  description: "Calls the circuit breaker let through, by key and outcome"
})

/** Calls failed fast with CircuitOpen, per key. */
export const rejections = Metric.counter("apikit_circuit_breaker_rejections_total", {
  description: "Calls rejected with CircuitOpen, by key"
})

interface Labels {
  readonly key: ReadonlyArray<MetricLabel.MetricLabel>
  readonly Success: ReadonlyArray<MetricLabel.MetricLabel>
  readonly Failure: ReadonlyArray<MetricLabel.MetricLabel>
  readonly Ignored: ReadonlyArray<MetricLabel.MetricLabel>
}

/**
 * The most keys that get series of their own. Effect's metric registry keeps
 * every series for the life of the process, so a breaker keyed per end user
 * would grow it without bound: keys past this many share the key "(other)".
 */
export const maxKeys = 1000

/** The label of every key past {@link maxKeys}. */
export const otherKey = "(other)"

const makeLabels = (key: string): Labels => {
  const k = MetricLabel.make("key", key)
  return {
    key: [k],
    Success: [k, MetricLabel.make("outcome", "success")],
    Failure: [k, MetricLabel.make("outcome", "failure")],
    Ignored: [k, MetricLabel.make("outcome", "ignored")]
  }
}

// Stable label arrays per key: Effect caches a metric's hook by the identity of
// its label array, so reusing them keeps an update to a map lookup.
const labels = new Map<string, Labels>()
const other = makeLabels(otherKey)
const labelsOf = (key: string): Labels => {
  let l = labels.get(key)
  if (l === undefined) {
    if (labels.size >= maxKeys) return other
    l = makeLabels(key)
    labels.set(key, l)
    // A key shows up as closed from its first call, not only after its first transition.
    stateGauge.unsafeUpdate(0, l.key)
  }
  return l
}

/** Counts an admitted call's outcome. */
export const call = (key: string, outcome: Store.Outcome["_tag"]): void => calls.unsafeUpdate(1, labelsOf(key)[outcome])

/** Counts a rejection. */
export const rejected = (key: string): void => rejections.unsafeUpdate(1, labelsOf(key).key)

/** Sets the state gauge of a key. */
export const state = (key: string, to: Store.State): void => stateGauge.unsafeUpdate(stateValue[to], labelsOf(key).key)
