import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import type * as Store from "../CircuitBreakerStore.js"
import * as metrics from "./metrics.js"

/**
 * Makes the announcer of a breaker's state changes: each transition sets the
 * state gauge, is logged (a warning when the circuit opens or is isolated,
 * info otherwise, annotated with the circuit, the states, the reason and the
 * open duration) and is published to the breaker's subscribers.
 */
export const make = (
  pubsub: PubSub.PubSub<Store.Transition>
) =>
(t: Store.Transition | undefined): Effect.Effect<void> => {
  if (t === undefined) return Effect.void
  metrics.state(t.key, t.to)
  const line = t.to === "Open" || t.to === "Isolated"
    ? Effect.logWarning(`circuit breaker "${t.key}" ${t.from} → ${t.to}`)
    : Effect.logInfo(`circuit breaker "${t.key}" ${t.from} → ${t.to}`)
  return Effect.zipRight(
    line.pipe(Effect.annotateLogs({
      circuit: t.key,
      from: t.from,
      to: t.to,
      reason: t.reason,
      ...(t.detail === undefined ? {} : { detail: t.detail }),
      ...(t.openMillis === undefined ? {} : { openMillis: t.openMillis })
    })),
    PubSub.publish(pubsub, t)
  )
}
