import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import * as memory from "@apikit/circuit-breaker/internal/memory"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { fail, ok, serverError } from "./utils.js"

const hour = 3_600_000
const config = { trip: [CircuitBreaker.consecutive(3)], probes: 1 }

describe("the memory store's contract is the five operations", () => {
  it("its synchronous fast path is private, not part of the store interface", () => {
    expect(Object.keys(CircuitBreakerStore.makeMemory()).sort()).toEqual(
      ["acquire", "isolate", "record", "reset", "snapshot"]
    )
  })
})

describe("the memory store forgets idle circuits", () => {
  it("10,000 keys touched once each are gone after the idle timeout; recent and isolated ones stay", () => {
    const circuits = memory.make(hour)
    for (let i = 0; i < 10_000; i++) circuits.acquire(`user-${i}`, config, 0, 1000)
    circuits.isolate("isolated", 0)
    expect(circuits.size()).toBe(10_001)
    circuits.acquire("recent", config, hour / 4, 1000) // before the first sweep is due (half the idle timeout)
    circuits.acquire("user-0", config, hour + 1, 1000) // a sweep runs: every key but three is idle
    expect(circuits.size()).toBe(3) // user-0 (just used), recent, isolated
    expect(circuits.snapshot("isolated", hour + 1).state).toBe("Isolated")
  })

  it("an open circuit stays until its open time has passed by the idle timeout", () => {
    const circuits = memory.make(hour)
    const { permit } = circuits.acquire("k", config, 0, 1000)
    if (permit._tag !== "Call") return expect.unreachable()
    for (let i = 0; i < 3; i++) {
      circuits.record("k", config, permit, { _tag: "Failure", durationMillis: 0 }, 2 * hour, 0)
    }
    expect(circuits.snapshot("k", 0).state).toBe("Open")
    circuits.acquire("other", config, 2 * hour, 1000) // idle for 2 h, but open until 2 h: kept
    expect(circuits.snapshot("k", 2 * hour).state).toBe("Open")
    circuits.acquire("other", config, 3 * hour, 1000)
    expect(circuits.size()).toBe(1)
  })

  it.effect("through a breaker: the failure history of a circuit idle for the timeout is forgotten", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ key: "k", trip: CircuitBreaker.consecutive(3) })
      yield* Effect.either(breaker.guard(fail(serverError)))
      yield* Effect.either(breaker.guard(fail(serverError)))
      yield* TestClock.adjust("2 hours")
      yield* breaker.guard(ok, "another key") // sweeps
      yield* Effect.either(breaker.guard(fail(serverError)))
      expect((yield* breaker.state()).state).toBe("Closed") // 1 failure in a row, not 3
    }).pipe(Effect.provide(CircuitBreakerStore.layerMemoryWith({ idleTimeout: "1 hour" }))))
})

describe("CircuitBreakerStore contract (@apikit/testing/StoreContracts): memory", () =>
  StoreContracts.circuitBreakerStore(() => CircuitBreakerStore.layerMemory))
