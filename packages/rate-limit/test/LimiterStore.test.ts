/**
 * The memory store's synchronous decisions (`LimiterStore.decide`, the hot
 * path of `RateLimit`) against `@effect/experimental`'s `RateLimiter.consume`
 * on the same store: over arbitrary sequences of costs, modes and elapsed
 * time, every decision is the same.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, FastCheck } from "effect"
import * as LimiterStore from "../src/internal/limiterStore.js"

interface Step {
  readonly tokens: number
  readonly mode: "delay" | "fail"
  readonly advance: number
}

const step = FastCheck.record({
  tokens: FastCheck.integer({ min: 1, max: 4 }),
  mode: FastCheck.constantFrom("delay" as const, "fail" as const),
  advance: FastCheck.integer({ min: 0, max: 400 })
})

/** Each step's decision in milliseconds, as `decide` reports it, through `RateLimiter.consume`. */
const viaConsume = (
  steps: ReadonlyArray<Step>,
  limit: number,
  window: number,
  algorithm: "fixed-window" | "token-bucket"
) => {
  // A clock that moves only when told: each step's elapsed time.
  let now = 0
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeMillis: Effect.sync(() => now),
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: () => Effect.void
  }
  return Effect.gen(function*() {
    const limiter = yield* RateLimiter.make
    const out: Array<number> = []
    for (const s of steps) {
      now += s.advance
      const result = yield* Effect.either(
        limiter.consume({
          key: "k",
          tokens: s.tokens,
          limit,
          window: Duration.millis(window),
          algorithm,
          onExceeded: s.mode
        })
      )
      out.push(
        Either.isRight(result)
          ? Duration.toMillis(result.right.delay)
          : result.left.reason === "Exceeded"
          ? Duration.toMillis(result.left.retryAfter)
          : Number.NaN
      )
    }
    return out
  }).pipe(Effect.provide(LimiterStore.layer), Effect.withClock(clock))
}

/** The same steps through `decide` on the store's synchronous side. */
const viaDecide = (
  steps: ReadonlyArray<Step>,
  limit: number,
  window: number,
  algorithm: "fixed-window" | "token-bucket"
) =>
  Effect.gen(function*() {
    const store = LimiterStore.syncOf(yield* RateLimiter.RateLimiterStore)!
    let now = 0
    return steps.map((s) => {
      now += s.advance
      const refill = LimiterStore.refillMillis(Duration.millis(window), limit)
      return LimiterStore.decide(store, "k", now, s.tokens, limit, window, refill, algorithm, s.mode)
    })
  }).pipe(Effect.provide(LimiterStore.layer))

describe("LimiterStore.decide", () => {
  it("is there for apikit's memory store only", () =>
    Effect.gen(function*() {
      expect(LimiterStore.syncOf(yield* RateLimiter.RateLimiterStore)).toBeDefined()
    }).pipe(Effect.provide(LimiterStore.layer), Effect.runSync))

  it.effect.prop(
    "decides like RateLimiter.consume on the same store",
    [
      FastCheck.array(step, { minLength: 1, maxLength: 20 }),
      FastCheck.integer({ min: 4, max: 10 }),
      FastCheck.constantFrom(1000, 250, 60_000),
      FastCheck.constantFrom("fixed-window" as const, "token-bucket" as const)
    ],
    ([steps, limit, window, algorithm]) =>
      Effect.gen(function*() {
        const expected = yield* viaConsume(steps, limit, window, algorithm)
        const actual = yield* viaDecide(steps, limit, window, algorithm)
        expect(actual).toEqual(expected)
      })
  )
})
