/**
 * Request coalescing: identical in-flight requests share one. The first
 * caller starts the request in a fiber of its own; everyone (the first caller
 * included) waits for its result, each bounded by its own deadline and
 * interruptible on its own. The request is interrupted only when the last
 * waiter is gone.
 *
 * Waiters are plain callbacks resumed when the request ends (no Deferred: it
 * is on every miss, and a Deferred costs more than the rest of the stage).
 *
 * @internal
 */
import type * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"

type Result<A> = Exit.Exit<A, ApiError.ApiError>

interface Flight<A> {
  exit: Result<A> | undefined
  readonly waiters: Set<(exit: Result<A>) => void>
  fiber: Fiber.RuntimeFiber<unknown> | undefined
  /** Started with nobody waiting (stale-while-revalidate): runs to the end. */
  readonly background: boolean
}

/** @internal */
export interface Flights<A> {
  /**
   * Joins the flight of `key`, starting it with `start` when there is none.
   * `joined` is told when this caller joins a flight already in the air.
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

  const launch = (key: string, start: Effect.Effect<A, ApiError.ApiError>, background: boolean) => {
    const flight: Flight<A> = { exit: undefined, waiters: new Set(), fiber: undefined, background }
    flights.set(key, flight)
    const run = Effect.flatMap(Effect.exit(start), (exit) =>
      Effect.sync(() => {
        flight.exit = exit
        if (flights.get(key) === flight) flights.delete(key)
        for (const resume of flight.waiters) resume(exit)
        flight.waiters.clear()
      }))
    // A root fiber with the caller's services and FiberRefs, owned by no caller and interruptible
    // (default flags) even when started from an uninterruptible region. Made from the fiber's own
    // state: ~6 µs against ~7.5 µs through Effect.runtime and ~11 µs for Effect.forkDaemon
    // (measured), and this is on every miss.
    return Effect.withFiberRuntime<Flight<A>>((fiber) => {
      const runtime = Runtime.make({
        context: fiber.currentContext,
        fiberRefs: fiber.getFiberRefs(),
        runtimeFlags: Runtime.defaultRuntimeFlags
      })
      flight.fiber = Runtime.runFork(runtime)(run)
      return Effect.succeed(flight)
    })
  }

  /** Waits for the flight's result; a waiter that leaves before it is gone from it (the last one cancels it). */
  const wait = (key: string, flight: Flight<A>): Effect.Effect<A, ApiError.ApiError> =>
    Effect.async<A, ApiError.ApiError>((resume) => {
      if (flight.exit !== undefined) return resume(flight.exit)
      const waiter = (exit: Result<A>) => resume(exit)
      flight.waiters.add(waiter)
      return Effect.suspend(() => {
        flight.waiters.delete(waiter)
        if (flight.waiters.size > 0 || flight.exit !== undefined || flight.background) return Effect.void
        // The last waiter is gone: nobody wants the answer any more.
        if (flights.get(key) === flight) flights.delete(key)
        return flight.fiber === undefined ? Effect.void : Effect.asVoid(Fiber.interruptFork(flight.fiber))
      })
    })

  const bounded = (key: string, flight: Flight<A>, context: Policy.CallContext, leader: boolean) => {
    const awaited = wait(key, flight)
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

  const run = (
    key: string,
    start: Effect.Effect<A, ApiError.ApiError>,
    context: Policy.CallContext,
    joined: () => void
  ): Effect.Effect<A, ApiError.ApiError> => {
    const go = (tries: number): Effect.Effect<A, ApiError.ApiError> =>
      Effect.suspend(() => {
        const existing = flights.get(key)
        if (existing === undefined) {
          // Started and waited for without a gap in which an interruption could strand the flight.
          return Effect.uninterruptibleMask((restore) =>
            Effect.flatMap(launch(key, start, false), (flight) => restore(bounded(key, flight, context, true)))
          )
        }
        joined()
        return Effect.catchIf(
          bounded(key, existing, context, false),
          // The request ran out of its first caller's time, not necessarily of ours: go again.
          (e) => e._tag === "Timeout" && e.reason === "Deadline" && tries < 3,
          (e) =>
            Effect.flatMap(
              Clock.currentTimeMillis,
              (now) => context.deadline === undefined || now < context.deadline ? go(tries + 1) : Effect.fail(e)
            )
        )
      })
    return go(1)
  }

  const background = (key: string, start: Effect.Effect<A, ApiError.ApiError>): Effect.Effect<void> =>
    Effect.suspend(() => flights.has(key) ? Effect.void : Effect.asVoid(launch(key, start, true)))

  return { run, background, inFlight: () => flights.size }
}
