/**
 * Request coalescing: identical in-flight requests share one. The first
 * caller starts the request in a fiber of its own; everyone (the first caller
 * included) waits for its result, each bounded by its own deadline and
 * interruptible on its own. The request is interrupted only when the last
 * waiter is gone.
 *
 * @internal
 */
import type * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"

interface Flight<A> {
  readonly result: Deferred.Deferred<A, ApiError.ApiError>
  fiber: Fiber.RuntimeFiber<unknown> | undefined
  waiters: number
  done: boolean
  /** Started with nobody waiting (stale-while-revalidate): runs to the end. */
  readonly background: boolean
}

/** @internal */
export interface Flights<A> {
  /**
   * Joins the flight of `key`, starting it with `start` when there is none.
   * `joined` is told whether this caller joined a flight already in the air.
   */
  readonly run: (
    key: string,
    start: Effect.Effect<A, ApiError.ApiError>,
    context: Policy.CallContext,
    joined: () => void
  ) => Effect.Effect<A, ApiError.ApiError>
  /** Starts the flight of `key` if there is none, and does not wait for it (stale-while-revalidate). */
  readonly background: (key: string, start: Effect.Effect<A, ApiError.ApiError>) => Effect.Effect<void>
  readonly inFlight: () => number
}

/** @internal */
export const make = <A>(): Flights<A> => {
  const flights = new Map<string, Flight<A>>()

  const launch = (
    key: string,
    start: Effect.Effect<A, ApiError.ApiError>,
    background: boolean
  ): Effect.Effect<Flight<A>> =>
    Effect.suspend(() => {
      const flight: Flight<A> = {
        result: Deferred.unsafeMake<A, ApiError.ApiError>(FiberId.none),
        fiber: undefined,
        waiters: 0,
        done: false,
        background
      }
      flights.set(key, flight)
      const run = Effect.flatMap(Effect.exit(start), (exit) => {
        flight.done = true
        if (flights.get(key) === flight) flights.delete(key)
        return Deferred.done(flight.result, exit)
      })
      // Forked interruptible (the caller is in an uninterruptible region here), owned by no caller.
      return Effect.map(Effect.forkDaemon(Effect.interruptible(run)), (fiber) => {
        flight.fiber = fiber
        return flight
      })
    })

  const leave = (key: string, flight: Flight<A>) =>
    Effect.suspend(() => {
      flight.waiters -= 1
      if (flight.waiters > 0 || flight.done || flight.background) return Effect.void
      // The last waiter is gone: nobody wants the answer any more.
      if (flights.get(key) === flight) flights.delete(key)
      return flight.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interruptFork(flight.fiber))
    })

  const wait = (flight: Flight<A>, context: Policy.CallContext, leader: boolean) => {
    const awaited = Deferred.await(flight.result)
    // The first caller's deadline bounds the request itself; a later one bounds its own wait.
    if (leader || context.deadline === undefined) return awaited
    const deadline = context.deadline
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      now >= deadline
        ? Effect.fail(Policy.deadlineExceeded(context))
        : Effect.timeoutFail(awaited, {
          duration: Duration.millis(deadline - now),
          onTimeout: () => Policy.deadlineExceeded(context)
        }))
  }

  const once = (
    key: string,
    start: Effect.Effect<A, ApiError.ApiError>,
    context: Policy.CallContext,
    joined: () => void
  ): Effect.Effect<{ readonly exit: Exit.Exit<A, ApiError.ApiError>; readonly leader: boolean }> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        Effect.suspend(() => {
          const existing = flights.get(key)
          if (existing !== undefined) {
            joined()
            return Effect.succeed({ flight: existing, leader: false })
          }
          return Effect.map(launch(key, start, false), (flight) => ({ flight, leader: true }))
        }),
        ({ flight, leader }) => {
          flight.waiters += 1
          return Effect.map(
            Effect.ensuring(Effect.exit(restore(wait(flight, context, leader))), leave(key, flight)),
            (exit) => ({ exit, leader })
          )
        }
      )
    )

  const run = (
    key: string,
    start: Effect.Effect<A, ApiError.ApiError>,
    context: Policy.CallContext,
    joined: () => void
  ): Effect.Effect<A, ApiError.ApiError> => {
    const go = (tries: number): Effect.Effect<A, ApiError.ApiError> =>
      Effect.flatMap(once(key, start, context, joined), ({ exit, leader }) => {
        if (Exit.isSuccess(exit) || leader || tries >= 3) return exit
        // The request ran out of its first caller's time, not necessarily of ours: go again.
        const theirDeadline = Exit.isFailure(exit) && exit.cause._tag === "Fail" &&
          exit.cause.error._tag === "Timeout" && exit.cause.error.reason === "Deadline"
        if (!theirDeadline) return exit
        return Effect.flatMap(
          Clock.currentTimeMillis,
          (now) => context.deadline === undefined || now < context.deadline ? go(tries + 1) : exit
        )
      })
    return go(1)
  }

  const background = (key: string, start: Effect.Effect<A, ApiError.ApiError>): Effect.Effect<void> =>
    Effect.suspend(() => flights.has(key) ? Effect.void : Effect.asVoid(launch(key, start, true)))

  return { run, background, inFlight: () => flights.size }
}
