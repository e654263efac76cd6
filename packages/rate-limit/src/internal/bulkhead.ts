/**
 * A keyed bulkhead: at most `maxConcurrent` effects run per key, at most
 * `maxQueue` more wait; anyone beyond that is refused at once, so a slow
 * dependency cannot pile up unbounded fibers (and memory) behind it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

interface Lane {
  readonly semaphore: Effect.Semaphore
  /** Running plus waiting. */
  occupants: number
}

/** @internal */
export type Bulkhead = <A, E, R, E2>(
  key: string,
  full: () => E2,
  effect: Effect.Effect<A, E, R>
) => Effect.Effect<A, E | E2, R>

/** @internal */
export const make = (maxConcurrent: number, maxQueue: number): Bulkhead => {
  const lanes = new Map<string, Lane>()
  return (key, full, effect) =>
    // Counting in and registering the release happen without an interruption
    // point in between, so an interrupted caller always gives its place back.
    Effect.uninterruptibleMask((restore): Effect.Effect<any, any, any> => {
      let lane = lanes.get(key)
      if (lane === undefined) {
        lane = { semaphore: Effect.unsafeMakeSemaphore(maxConcurrent), occupants: 0 }
        lanes.set(key, lane)
      }
      if (lane.occupants >= maxConcurrent + maxQueue) return Effect.fail(full())
      lane.occupants++
      const taken = lane
      return Effect.ensuring(
        restore(taken.semaphore.withPermits(1)(effect)),
        Effect.sync(() => {
          taken.occupants--
          // An idle lane holds nothing: drop it so keys do not accumulate.
          if (taken.occupants === 0 && lanes.get(key) === taken) lanes.delete(key)
        })
      )
    })
}
