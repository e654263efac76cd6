import * as StoreContracts from "@apikit/testing/StoreContracts"
import { ReplayGuard } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"

describe("ReplayGuard contract (@apikit/testing/StoreContracts): memory", () =>
  StoreContracts.replayGuard(() => ReplayGuard.layerMemory()))

describe("the memory replay guard", () => {
  it.effect("forgets an id once its ttl has passed on the Effect clock", () =>
    Effect.gen(function*() {
      const guard = yield* ReplayGuard.ReplayGuard
      expect(yield* guard.claim("a", Duration.seconds(10))).toBe(false)
      yield* TestClock.adjust(Duration.seconds(9))
      expect(yield* guard.claim("a", Duration.seconds(10))).toBe(true)
      yield* TestClock.adjust(Duration.seconds(2))
      expect(yield* guard.claim("a", Duration.seconds(10))).toBe(false)
    }).pipe(Effect.provide(ReplayGuard.layerMemory())))

  it.effect("stays within maxEntries, dropping the oldest", () =>
    Effect.gen(function*() {
      const guard = yield* ReplayGuard.ReplayGuard
      for (let i = 0; i < 10; i++) yield* guard.claim(`k${i}`, Duration.hours(1))
      expect(yield* guard.claim("k9", Duration.hours(1))).toBe(true)
      expect(yield* guard.claim("k0", Duration.hours(1))).toBe(false)
    }).pipe(Effect.provide(ReplayGuard.layerMemory({ maxEntries: 3 }))))
})
