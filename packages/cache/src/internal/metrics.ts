/**
 * The cache stage's counters, per integration (label `client`), updated
 * synchronously (`unsafeUpdate`): they sit on the hit path.
 *
 * @internal
 */
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

/** @internal */
export const counters = {
  hit: counter("apikit_cache_hits_total", "Calls answered from a fresh stored response, no request sent"),
  miss: counter("apikit_cache_misses_total", "Cacheable calls with nothing usable stored"),
  revalidation: counter("apikit_cache_revalidations_total", "Conditional requests sent for stale stored responses"),
  notModified: counter("apikit_cache_not_modified_total", "304 Not Modified answers to revalidations"),
  permitSaved: counter(
    "apikit_cache_permits_saved_total",
    "Rate-limit permits not spent: fresh hits, callers that joined an in-flight request, uncounted 304s"
  ),
  coalesced: counter("apikit_cache_coalesced_total", "Callers that joined an identical in-flight request"),
  stale: counter(
    "apikit_cache_stale_served_total",
    "Stale responses served (stale-if-error, stale-while-revalidate, orStale)"
  ),
  invalidation: counter("apikit_cache_invalidations_total", "Resources invalidated by unsafe methods or by hand"),
  storeError: counter(
    "apikit_cache_store_errors_total",
    "Cache store operations that failed (the call went on uncached)"
  )
} as const

/** @internal */
export type Event = keyof typeof counters

// Stable label arrays per client: Effect caches a metric's hook by the identity of its label array.
const labels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()

/** Counts `n` of `event` for `client`. @internal */
export const count = (client: string, event: Event, n = 1): void => {
  let l = labels.get(client)
  if (l === undefined) {
    l = [MetricLabel.make("client", client)]
    labels.set(client, l)
  }
  counters[event].unsafeUpdate(n, l)
}
