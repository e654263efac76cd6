/**
 * A retry budget: retries may not exceed a ratio of calls over a sliding
 * window, so a failing dependency gets at most `ratio` extra load instead of a
 * retry storm (`times` retries per call would multiply the load by `times + 1`).
 *
 * The shape follows Finagle's `RetryBudget`: every call deposits, every retry
 * withdraws, and `minRetries` per window keeps low-traffic clients able to
 * retry at all (with 3 calls a minute, 20% would allow none).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * Marks a value as a {@link RetryBudget}.
 *
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@apikit/retry/RetryBudget")

/**
 * The type of {@link TypeId}.
 *
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * Shared retry accounting. Pass the same budget to several policies to bound
 * their retries together.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryBudget {
  readonly [TypeId]: TypeId
  /** Records one call (a first attempt). */
  readonly deposit: Effect.Effect<void>
  /** Takes one retry from the budget; `false` when it is spent. */
  readonly withdraw: Effect.Effect<boolean>
  /** The calls and retries counted in the current window. */
  readonly snapshot: Effect.Effect<{ readonly calls: number; readonly retries: number }>
}

/**
 * How a budget is sized.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Retries allowed per call over the window, e.g. 0.2 for 20%. */
  readonly ratio: number
  /** The sliding window, e.g. "10 seconds". */
  readonly window: Duration.DurationInput
  /** Retries always allowed per window, whatever the traffic (default 10). */
  readonly minRetries?: number | undefined
}

// The window slides in tenths: memory stays constant whatever the traffic,
// at the price of a granularity of window / 10.
const slots = 10

/**
 * Makes a retry budget. Its state lives in the returned value, so create it
 * once (in a layer) and share it.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Retry } from "@apikit/retry"
 * import { Effect } from "effect"
 *
 * const policy = Effect.map(
 *   Retry.budget({ ratio: 0.2, window: "10 seconds" }),
 *   (budget) => Retry.transient({ times: 3, budget })
 * )
 */
export const make = (options: Options): Effect.Effect<RetryBudget> => {
  // decodeUnknown, not decode: a malformed duration string must not throw.
  const windowMillis = Option.match(Duration.decodeUnknown(options.window), {
    onNone: () => NaN,
    onSome: Duration.toMillis
  })
  const minRetries = options.minRetries ?? 10
  if (!(options.ratio >= 0) || !(windowMillis > 0) || !Number.isFinite(windowMillis) || !(minRetries >= 0)) {
    return Effect.dieMessage(
      `RetryBudget.make: ratio and minRetries must be >= 0 and window a positive finite duration ` +
        `(got ratio ${options.ratio}, window ${windowMillis} ms, minRetries ${minRetries})`
    )
  }
  return Effect.sync(() => {
    const width = windowMillis / slots
    const calls = new Array<number>(slots).fill(0)
    const retries = new Array<number>(slots).fill(0)
    let current = -Infinity

    /** Moves the window to `now`, clearing the slots that slid out of it; returns the current slot. */
    const advance = (now: number): number => {
      const index = Math.floor(now / width)
      if (index > current) {
        const stale = Math.min(slots, index - current)
        for (let i = 0; i < stale; i++) {
          calls[(index - i) % slots] = 0
          retries[(index - i) % slots] = 0
        }
        current = index
      }
      return current % slots
    }
    const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

    return {
      [TypeId]: TypeId,
      deposit: Effect.map(Clock.currentTimeMillis, (now) => {
        calls[advance(now)]! += 1
      }),
      withdraw: Effect.map(Clock.currentTimeMillis, (now) => {
        const slot = advance(now)
        if (sum(retries) + 1 > minRetries + options.ratio * sum(calls)) return false
        retries[slot]! += 1
        return true
      }),
      snapshot: Effect.map(Clock.currentTimeMillis, (now) => {
        advance(now)
        return { calls: sum(calls), retries: sum(retries) }
      })
    }
  })
}
