import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Schedule, Stream, TestClock } from "effect"
import { badRequest, fail, notFound, ok, rateLimited, serverError, stores, timeout, transport } from "./utils.js"

class Oops {}

/** Runs `n` guarded calls of `effect` and returns how each ended. */
const calls = <A, E>(breaker: CircuitBreaker.CircuitBreaker, effect: Effect.Effect<A, E>, n = 1) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.either(breaker.guard(effect)))

const stateOf = (breaker: CircuitBreaker.CircuitBreaker) => Effect.map(breaker.state(), (s) => s.state)

for (const [storeName, layer] of stores) {
  const withStore = Effect.provide(layer)

  describe(storeName, () => {
    describe("trip policies", () => {
      it.effect("consecutive: opens after n failures in a row; a success in between resets the run", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ key: "k", trip: CircuitBreaker.consecutive(3) })
          yield* calls(breaker, fail(serverError), 2)
          yield* calls(breaker, ok)
          yield* calls(breaker, fail(timeout), 2)
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(transport))
          expect(yield* stateOf(breaker)).toBe("Open")
          const [rejected] = yield* calls(breaker, ok)
          expect(Either.isLeft(rejected!) && rejected.left._tag).toBe("CircuitOpen")
        }).pipe(withStore))

      it.effect("consecutive defaults to 5", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make()
          // It never waits (an open circuit fails at once), so it honours any call deadline.
          expect(breaker.honorsDeadline).toBe(true)
          yield* calls(breaker, fail(serverError), 4)
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(serverError))
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("failureRate: waits for minimumCalls, then opens at the threshold over the last `window` calls", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.failureRate({ threshold: 0.5, window: 10, minimumCalls: 4 })
          })
          yield* calls(breaker, fail(serverError), 3) // 3/3 failed, but fewer than 4 calls
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, ok, 7) // 3/10
          expect(yield* stateOf(breaker)).toBe("Closed")
          // The three old failures slide out as new ones come in: stays at 3/10 + k, with old failures leaving.
          yield* calls(breaker, fail(serverError), 3) // window: ok×7, fail×3 → 3/10
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(serverError), 1) // ok×6, fail×4 → 4/10
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(serverError), 1) // 5/10 = threshold
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("failureRate: minimumCalls defaults to the window", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.failureRate({ threshold: 0.5, window: 4 })
          })
          yield* calls(breaker, fail(serverError), 3)
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, ok)
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("failureRateTimed: counts only the calls of the last duration, and needs the minimum throughput", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.failureRateTimed({ threshold: 0.5, duration: "10 seconds", minimumThroughput: 4 })
          })
          yield* calls(breaker, fail(serverError), 3)
          yield* TestClock.adjust("11 seconds") // those three age out
          yield* calls(breaker, ok, 2)
          yield* calls(breaker, fail(serverError), 1) // 1/3 in the window, under the minimum
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(serverError), 1) // 2/4 = 50%
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("slowCallRate: calls slower than the bound count, even when they succeed", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.slowCallRate({ threshold: 0.5, slowerThan: "2 seconds", window: 4 })
          })
          const slow = Effect.as(Effect.sleep("3 seconds"), "slow")
          const run = (effect: Effect.Effect<string>) =>
            Effect.gen(function*() {
              const fiber = yield* Effect.fork(breaker.guard(effect))
              yield* TestClock.adjust("3 seconds")
              return yield* Fiber.join(fiber)
            })
          yield* run(ok)
          yield* run(slow)
          yield* run(ok)
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* run(slow) // 2/4 slow
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.scoped("several policies: the first that trips opens the circuit, and the log says which", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: [CircuitBreaker.consecutive(10), CircuitBreaker.failureRate({ threshold: 0.5, window: 4 })]
          })
          const events = yield* Effect.fork(Stream.runCollect(Stream.take(yield* breaker.subscribe, 1)))
          yield* calls(breaker, ok, 2)
          yield* calls(breaker, fail(serverError), 2)
          const [opened] = yield* Fiber.join(events)
          expect(opened!.to).toBe("Open")
          expect(opened!.detail).toBe("failure rate 50% ≥ 50% over the last 4 calls")
        }).pipe(withStore))
    })

    describe("what counts", () => {
      it.effect("Timeout, Transport and 5xx fail; 4xx succeed; rate limiting, CircuitOpen and interruption are ignored", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(2) })
          const staysClosed = (e: unknown) =>
            Effect.gen(function*() {
              yield* calls(breaker, fail(serverError)) // one failure on the run
              yield* calls(breaker, fail(e))
              const after = yield* stateOf(breaker)
              yield* breaker.reset()
              return after
            })
          // A success resets the run; an ignored call leaves it at one; neither opens.
          expect(yield* staysClosed(notFound)).toBe("Closed")
          expect(yield* staysClosed(badRequest)).toBe("Closed")
          for (const reason of ["TooManyRequests", "ServiceUnavailable", "ClientLimit", "BulkheadFull"] as const) {
            expect(yield* staysClosed(rateLimited(reason))).toBe("Closed")
          }
          // A CircuitOpen from another (inner) breaker is load shedding too.
          const inner = yield* CircuitBreaker.make({ key: "inner", trip: CircuitBreaker.consecutive(1) })
          yield* inner.isolate()
          const shed = yield* Effect.flip(inner.guard(ok))
          expect(yield* staysClosed(shed)).toBe("Closed")
          // Ignored really means ignored: one more failure after it completes the run of two.
          yield* calls(breaker, fail(serverError))
          yield* calls(breaker, fail(rateLimited("TooManyRequests")))
          const interrupted = yield* Effect.fork(breaker.guard(Effect.never))
          yield* Effect.yieldNow()
          yield* Fiber.interrupt(interrupted)
          yield* calls(breaker, fail(serverError))
          expect(yield* stateOf(breaker)).toBe("Open")
          yield* breaker.reset()
          for (const e of [timeout, transport, serverError, new Error("not an ApiError")]) {
            expect(yield* staysClosed(e)).toBe("Open")
          }
          // Defects are failures too.
          yield* Effect.exit(breaker.guard(Effect.die("boom")))
          yield* Effect.exit(breaker.guard(Effect.die("boom")))
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("a classifier overrides the defaults", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(2),
            classify: (e) =>
              e instanceof Oops ? "ignore" : e === notFound ? "failure" : CircuitBreaker.defaultClassify(e)
          })
          yield* calls(breaker, fail(new Oops()), 3)
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(notFound), 2)
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))

      it.effect("outcomes of calls admitted before the circuit opened do not count against the new state", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(1),
            openDuration: "10 seconds"
          })
          const late = yield* Effect.fork(breaker.guard(Effect.zipRight(Effect.sleep("15 seconds"), fail(serverError))))
          yield* Effect.yieldNow()
          yield* calls(breaker, fail(serverError)) // opens
          yield* TestClock.adjust("10 seconds")
          const probe = yield* Effect.fork(breaker.guard(Effect.as(Effect.sleep("10 seconds"), "probe")))
          yield* TestClock.adjust("5 seconds") // the late failure lands while half-open
          expect(yield* stateOf(breaker)).toBe("HalfOpen")
          yield* Fiber.join(late).pipe(Effect.either)
          yield* TestClock.adjust("5 seconds")
          expect(yield* Fiber.join(probe)).toBe("probe")
          expect(yield* stateOf(breaker)).toBe("Closed")
        }).pipe(withStore))
    })

    describe("open and half-open", () => {
      it.effect("rejects with CircuitOpen carrying the time until the next probe, then probes and closes", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            key: "payments",
            trip: CircuitBreaker.consecutive(1),
            openDuration: "30 seconds"
          })
          yield* calls(breaker, fail(serverError))
          yield* TestClock.adjust("10 seconds")
          const e = yield* Effect.flip(breaker.guard(ok))
          expect(e._tag).toBe("CircuitOpen")
          if (e._tag !== "CircuitOpen") return
          expect(e.key).toBe("payments")
          expect(Duration.toMillis(e.retryAfter)).toBe(20_000)
          expect(e.message).toContain("next probe in 20s")
          yield* TestClock.adjust("20 seconds")
          expect(yield* breaker.guard(ok)).toBe("ok")
          expect(yield* stateOf(breaker)).toBe("Closed")
        }).pipe(withStore))

      it.effect("reads the caller's Clock per call, not the one in context when the breaker was made", () =>
        Effect.gen(function*() {
          // Made under a clock frozen at 0; used under the TestClock.
          const frozen = yield* Effect.clock
          const breaker = yield* CircuitBreaker.make({ key: "k", trip: CircuitBreaker.consecutive(1) }).pipe(
            Effect.withClock({ ...frozen, unsafeCurrentTimeMillis: () => 0, currentTimeMillis: Effect.succeed(0) })
          )
          yield* TestClock.setTime(1_000_000)
          yield* calls(breaker, fail(serverError))
          const e = yield* Effect.flip(breaker.guard(ok))
          expect(e._tag === "CircuitOpen" && Duration.toMillis(e.retryAfter)).toBe(30_000)
          yield* TestClock.adjust("30 seconds")
          expect(yield* breaker.guard(ok)).toBe("ok")
          expect(yield* breaker.state()).toEqual({ state: "Closed", opened: 0, retryAfterMillis: undefined })
        }).pipe(withStore))

      it.effect("a failed probe reopens the circuit", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(1),
            openDuration: "30 seconds"
          })
          yield* calls(breaker, fail(serverError))
          yield* TestClock.adjust("30 seconds")
          yield* calls(breaker, fail(timeout))
          const s = yield* breaker.state()
          expect(s.state).toBe("Open")
          expect(s.retryAfterMillis).toBe(30_000)
          expect(s.opened).toBe(2)
        }).pipe(withStore))

      for (const probes of [1, 3]) {
        it.effect(`half-open with 50 concurrent callers admits exactly ${probes} probe(s)`, () =>
          Effect.gen(function*() {
            const breaker = yield* CircuitBreaker.make({
              trip: CircuitBreaker.consecutive(1),
              openDuration: "30 seconds",
              halfOpen: { probes, lease: "1 minute" }
            })
            yield* calls(breaker, fail(serverError))
            yield* TestClock.adjust("30 seconds")
            let admitted = 0
            const probe = Effect.zipRight(Effect.sync(() => admitted++), Effect.as(Effect.sleep("5 seconds"), "ok"))
            const fibers = yield* Effect.forEach(
              Array.from({ length: 50 }),
              () => Effect.fork(Effect.either(breaker.guard(probe))),
              { concurrency: "unbounded" }
            )
            yield* TestClock.adjust("1 second")
            expect(admitted).toBe(probes)
            // Those turned away already know how long the probes may take at most.
            const early = yield* Effect.forEach(fibers, (f) => Effect.map(f.poll, (o) => o))
            const rejected = early.filter((o) => o._tag === "Some")
            expect(rejected).toHaveLength(50 - probes)
            yield* TestClock.adjust("5 seconds")
            const results = yield* Effect.forEach(fibers, Fiber.join)
            const open = results.filter(Either.isLeft).map((r) => r.left)
            expect(open).toHaveLength(50 - probes)
            for (const e of open) {
              expect(e._tag).toBe("CircuitOpen")
              expect(Duration.toMillis(e.retryAfter)).toBe(60_000)
            }
            expect(results.filter(Either.isRight)).toHaveLength(probes)
            expect(yield* stateOf(breaker)).toBe("Closed")
          }).pipe(withStore))
      }

      it.effect("needs `probes` successes to close; no more than that many are admitted in total", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1), halfOpen: { probes: 2 } })
          yield* calls(breaker, fail(serverError))
          yield* TestClock.adjust("30 seconds")
          expect(yield* breaker.guard(ok)).toBe("ok")
          expect(yield* stateOf(breaker)).toBe("HalfOpen")
          expect(yield* breaker.guard(ok)).toBe("ok")
          expect(yield* stateOf(breaker)).toBe("Closed")
        }).pipe(withStore))

      it.effect("an interrupted probe gives its slot back: the circuit never stays stuck half-open", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1) })
          yield* calls(breaker, fail(serverError))
          yield* TestClock.adjust("30 seconds")
          const stuck = yield* Effect.fork(breaker.guard(Effect.never))
          yield* Effect.yieldNow()
          expect((yield* Effect.flip(breaker.guard(ok)))._tag).toBe("CircuitOpen")
          yield* Fiber.interrupt(stuck)
          expect(yield* stateOf(breaker)).toBe("HalfOpen")
          expect(yield* breaker.guard(ok)).toBe("ok")
          expect(yield* stateOf(breaker)).toBe("Closed")
        }).pipe(withStore))

      it.effect("a probe that never reports loses its lease when the lease expires", () =>
        Effect.gen(function*() {
          // Two breakers over one store stand for two instances of an app; one "crashes" mid-probe.
          const config: CircuitBreaker.Options = {
            key: "shared",
            trip: CircuitBreaker.consecutive(1),
            halfOpen: { lease: "10 seconds" }
          }
          const a = yield* CircuitBreaker.make(config)
          const b = yield* CircuitBreaker.make(config)
          yield* calls(a, fail(serverError))
          yield* TestClock.adjust("30 seconds")
          yield* Effect.fork(a.guard(Effect.never)) // holds the probe and never reports
          yield* Effect.yieldNow()
          const e = yield* Effect.flip(b.guard(ok))
          expect(e._tag === "CircuitOpen" && Duration.toMillis(e.retryAfter)).toBe(10_000)
          yield* TestClock.adjust("10 seconds")
          expect(yield* b.guard(ok)).toBe("ok")
          expect(yield* stateOf(b)).toBe("Closed")
        }).pipe(withStore))

      it.effect("open duration grows along a Schedule on repeated trips, up to the cap, and resets on close", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(1),
            openDuration: Schedule.exponential("10 seconds"),
            maxOpenDuration: "1 minute"
          })
          const seen: Array<number> = []
          const trip = Effect.gen(function*() {
            yield* calls(breaker, fail(serverError))
            const s = yield* breaker.state()
            seen.push(s.retryAfterMillis!)
            yield* TestClock.adjust(Duration.millis(s.retryAfterMillis!))
          })
          for (let i = 0; i < 5; i++) yield* trip
          expect(seen).toEqual([10_000, 20_000, 40_000, 60_000, 60_000])
          yield* calls(breaker, ok) // probe succeeds: closed, growth starts over
          yield* trip
          expect(seen[5]).toBe(10_000)
        }).pipe(withStore))

      it.effect("a finished Schedule keeps its last delay", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(1),
            openDuration: Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(2)))
          })
          const seen: Array<number> = []
          for (let i = 0; i < 4; i++) {
            yield* calls(breaker, fail(serverError))
            const s = yield* breaker.state()
            seen.push(s.retryAfterMillis!)
            yield* TestClock.adjust(Duration.millis(s.retryAfterMillis!))
          }
          expect(seen).toEqual([1000, 2000, 2000, 2000])
        }).pipe(withStore))

      it.effect("a Retry-After hint on a counted failure lengthens the open time, within the cap", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(1),
            openDuration: "10 seconds",
            maxOpenDuration: "90 seconds",
            // 503 with Retry-After counts here (by default it is left to the retry and limiter).
            classify: (e) =>
              e instanceof Object && "reason" in e && e.reason === "ServiceUnavailable"
                ? "failure"
                : CircuitBreaker.defaultClassify(e)
          })
          yield* calls(breaker, fail(rateLimited("ServiceUnavailable", Duration.seconds(45))))
          expect((yield* breaker.state()).retryAfterMillis).toBe(45_000)
          yield* breaker.reset()
          yield* calls(breaker, fail(rateLimited("ServiceUnavailable", Duration.hours(1))))
          expect((yield* breaker.state()).retryAfterMillis).toBe(90_000)
        }).pipe(withStore))
    })

    describe("manual control", () => {
      it.effect("isolate forces the circuit open until reset; reset closes and forgets the history", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ key: "k", trip: CircuitBreaker.consecutive(2) })
          yield* calls(breaker, fail(serverError))
          yield* breaker.isolate()
          yield* TestClock.adjust("1 hour")
          const e = yield* Effect.flip(breaker.guard(ok))
          expect(e._tag === "CircuitOpen" && Duration.isFinite(e.retryAfter)).toBe(false)
          expect(yield* stateOf(breaker)).toBe("Isolated")
          yield* breaker.reset()
          expect(yield* stateOf(breaker)).toBe("Closed")
          yield* calls(breaker, fail(serverError)) // the earlier failure was forgotten
          expect(yield* stateOf(breaker)).toBe("Closed")
          expect(yield* breaker.guard(ok)).toBe("ok")
        }).pipe(withStore))

      it.effect("keys are separate circuits", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1) })
          yield* Effect.either(breaker.guard(fail(serverError), "a"))
          expect((yield* breaker.state("a")).state).toBe("Open")
          expect((yield* breaker.state("b")).state).toBe("Closed")
          expect(yield* breaker.guard(ok, "b")).toBe("ok")
          expect(yield* ok.pipe(CircuitBreaker.withBreaker(breaker, { key: "b" }))).toBe("ok")
          const e = yield* Effect.flip(CircuitBreaker.withBreaker(ok, breaker, { key: "a" }))
          expect(e.message).toBe(
            "* circuit:a was not sent: the circuit \"a\" is open after repeated failures; next probe in 30s"
          )
        }).pipe(withStore))
    })

    describe("configuration", () => {
      it.effect("invalid options fail with InvalidBreakerConfig listing every problem", () =>
        Effect.gen(function*() {
          const e = yield* Effect.flip(CircuitBreaker.make({
            trip: [CircuitBreaker.consecutive(0), CircuitBreaker.failureRate({ threshold: 50, window: 0 })],
            halfOpen: { probes: 0 },
            openDuration: "soon" as Duration.DurationInput
          }))
          expect(e._tag).toBe("InvalidBreakerConfig")
          expect(e.detail).toContain("consecutive(failures) must be a whole number ≥ 1 (got 0)")
          expect(e.detail).toContain("failureRate threshold must be a fraction in (0, 1], e.g. 0.5 (got 50)")
          expect(e.detail).toContain("failureRate window must be a whole number ≥ 1 (got 0)")
          expect(e.detail).toContain("halfOpen.probes must be a whole number ≥ 1 (got 0)")
          expect(e.message).toContain("Fix the options passed to CircuitBreaker.make")
          expect(e.detail).toContain("openDuration must be a finite duration ≥ 0 ms (got NaN)")
        }).pipe(withStore))

      it.effect("the memory store reads an unknown key as closed", () =>
        Effect.gen(function*() {
          const store = yield* CircuitBreakerStore.CircuitBreakerStore
          const s = yield* store.snapshot({ key: "never-seen", now: 0 })
          expect(s).toEqual({ state: "Closed", opened: 0, retryAfterMillis: undefined })
        }).pipe(withStore))
    })

    describe("shared circuits and events", () => {
      it.effect("breakers of two app instances with equal options share one circuit's history", () =>
        Effect.gen(function*() {
          const options: CircuitBreaker.Options = { key: "shared", trip: CircuitBreaker.consecutive(4) }
          const a = yield* CircuitBreaker.make(options)
          const b = yield* CircuitBreaker.make({ ...options })
          for (let i = 0; i < 2; i++) {
            yield* calls(a, fail(serverError))
            yield* calls(b, fail(serverError))
          }
          expect(yield* stateOf(a)).toBe("Open")
          expect((yield* Effect.flip(b.guard(ok)))._tag).toBe("CircuitOpen")
        }).pipe(withStore))

      it.scoped("the event stream carries every transition with its reason, time and open duration", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            key: "k",
            trip: CircuitBreaker.consecutive(1),
            openDuration: Schedule.exponential("10 seconds")
          })
          const events = yield* Effect.fork(Stream.runCollect(Stream.take(yield* breaker.subscribe, 7)))
          yield* calls(breaker, fail(serverError)) // Closed → Open (10 s)
          yield* TestClock.adjust("10 seconds")
          yield* calls(breaker, fail(timeout)) // Open → HalfOpen, HalfOpen → Open (20 s)
          yield* TestClock.adjust("20 seconds")
          yield* calls(breaker, ok) // Open → HalfOpen, HalfOpen → Closed
          yield* breaker.isolate() // Closed → Isolated
          yield* breaker.isolate() // already isolated: no event
          yield* breaker.reset() // Isolated → Closed
          yield* breaker.reset() // already closed: no event
          const all = Array.from(yield* Fiber.join(events))
          expect(
            all.map((t) => `${t.at / 1000}s ${t.from}→${t.to} ${t.reason}${t.openMillis ? ` ${t.openMillis}` : ""}`)
          )
            .toEqual([
              "0s Closed→Open Tripped 10000",
              "10s Open→HalfOpen OpenElapsed",
              "10s HalfOpen→Open ProbeFailed 20000",
              "30s Open→HalfOpen OpenElapsed",
              "30s HalfOpen→Closed ProbesSucceeded",
              "30s Closed→Isolated Isolated",
              "30s Isolated→Closed Reset"
            ])
          expect(all.every((t) => t.key === "k")).toBe(true)
          expect(all[2]!.detail).toBe("a probe failed")
        }).pipe(withStore))

      it.scoped("a slow probe reopens a circuit that has a slow-call policy", () =>
        Effect.gen(function*() {
          const breaker = yield* CircuitBreaker.make({
            trip: [CircuitBreaker.consecutive(1), CircuitBreaker.slowCallRate({ threshold: 1, slowerThan: "1 second" })]
          })
          yield* calls(breaker, fail(serverError))
          yield* TestClock.adjust("30 seconds")
          const probe = yield* Effect.fork(breaker.guard(Effect.as(Effect.sleep("2 seconds"), "late")))
          yield* TestClock.adjust("2 seconds")
          expect(yield* Fiber.join(probe)).toBe("late")
          expect(yield* stateOf(breaker)).toBe("Open")
        }).pipe(withStore))
    })
  })
}
