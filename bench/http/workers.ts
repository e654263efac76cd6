/**
 * How the benchmarks drive an Effect client: `concurrency` fibers, each running
 * `one` after another until `count` have started, the way a promise client's
 * async workers do. No fiber is forked per call, so rows compare calls, not forks.
 */
import { Effect } from "effect"

export const workerFibers = <E, R>(one: Effect.Effect<unknown, E, R>, count: number, concurrency: number) =>
  Effect.suspend(() => {
    let started = 0
    const worker = Effect.whileLoop({
      while: () => started < count,
      body: () => {
        started++
        return one
      },
      step: () => {}
    })
    return Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency, discard: true })
  })
