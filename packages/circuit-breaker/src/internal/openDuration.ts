import * as ApiErrors from "@apikit/http/ApiError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { millisOf } from "./trip.js"

// Bounds the schedule steps per open: exponential delays are capped long before this.
const maxScheduleSteps = 64

/**
 * How long a circuit stays open after its `opened`-th trip in a row (0 for the
 * first), for the error that tripped it: the configured duration (fixed, or the
 * n-th delay of a Schedule), raised to the error's Retry-After hint, capped at
 * `maxOpenDuration` (default 10 minutes). The Clock is read per call.
 */
export const make = (options: {
  readonly openDuration?: Duration.DurationInput | Schedule.Schedule<unknown, unknown> | undefined
  readonly maxOpenDuration?: Duration.DurationInput | undefined
}): (opened: number, error: unknown) => Effect.Effect<number> => {
  const capMillis = millisOf(options.maxOpenDuration ?? Duration.minutes(10))
  const openDuration = options.openDuration ?? Duration.seconds(30)
  const baseOpenMillis: (opened: number) => Effect.Effect<number> = Schedule.isSchedule(openDuration)
    ? (opened) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.map(
          Schedule.run(
            Schedule.delays(openDuration),
            now,
            Array.from({ length: Math.min(opened, maxScheduleSteps) + 2 }, () => undefined)
          ),
          (out) => {
            // A run stops at the schedule's end, whose last output is no delay: a finished
            // schedule keeps its last real delay.
            const all = Array.from(out)
            const delays = all.length < Math.min(opened, maxScheduleSteps) + 2 ? all.slice(0, -1) : all
            const delay = delays[Math.min(opened, maxScheduleSteps, delays.length - 1)]
            return delay === undefined ? capMillis : Duration.toMillis(delay)
          }
        ))
    : ((ms) => () => Effect.succeed(ms))(millisOf(openDuration))

  return (opened, error) => {
    const hint = ApiErrors.isApiError(error) ? ApiErrors.retryAfterOf(error) : undefined
    return Effect.map(
      baseOpenMillis(opened),
      (base) => Math.min(capMillis, Math.max(base, hint === undefined ? 0 : Duration.toMillis(hint)))
    )
  }
}
