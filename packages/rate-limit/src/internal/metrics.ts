import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"

/** What the server last said is available for the key (remaining minus calls in flight). */
export const remaining = Metric.gauge("apikit_rate_limit_quota_remaining", {
  description: "Quota the server says is left for the key, minus calls in flight"
})

/** How long calls waited for the learned quota or a server pause, per key. */
export const wait = Metric.histogram(
  "apikit_rate_limit_wait_seconds",
  MetricBoundaries.exponential({ start: 0.01, factor: 2, count: 14 }),
  "Time calls waited for the server's quota, by key"
)

/** Calls held back (made to wait or refused) because the server's quota said they would meet a 429. */
export const avoided = Metric.counter("apikit_rate_limit_429_avoided_total", {
  description: "Calls held back by the learned quota instead of meeting a 429, by key"
})

/** 429s (and 503s with Retry-After) the server answered anyway. */
export const received = Metric.counter("apikit_rate_limit_429_received_total", {
  description: "Rate-limit refusals (429, 503 with Retry-After) received, by key"
})

// Stable label arrays per key (Effect caches a metric's hook by the array's
// identity). Bounded: past 10,000 keys the cache starts over.
const labels = new Map<string, ReadonlyArray<MetricLabel.MetricLabel>>()
export const labelsOf = (key: string): ReadonlyArray<MetricLabel.MetricLabel> => {
  let l = labels.get(key)
  if (l === undefined) {
    if (labels.size >= 10_000) labels.clear()
    l = [MetricLabel.make("key", key)]
    labels.set(key, l)
  }
  return l
}
