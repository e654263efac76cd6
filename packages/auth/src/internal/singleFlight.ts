import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"

/**
 * Runs at most one effect per key at a time; callers that arrive while it runs
 * share its outcome, success or typed failure alike. The work runs in a daemon
 * fiber so that interrupting one caller (say, its own timeout) neither cancels
 * the others' refresh nor leaves them waiting forever. The entry is removed
 * before the outcome is published, so a failure is never cached.
 */
export const make = <A, E>() => {
  const inflight = new Map<string, Deferred.Deferred<A, E>>()
  return (key: string, work: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      const running = inflight.get(key)
      if (running !== undefined) return Deferred.await(running)
      const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
      inflight.set(key, deferred)
      return work.pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          Effect.suspend(() => {
            inflight.delete(key)
            return Deferred.done(deferred, exit)
          })
        ),
        Effect.forkDaemon,
        Effect.zipRight(Deferred.await(deferred))
      )
    })
}
