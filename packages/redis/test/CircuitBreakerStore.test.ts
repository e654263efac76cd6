import { CircuitBreaker, CircuitBreakerStore as Store } from "@apikit/circuit-breaker"
import { Redis, RedisCircuitBreakerStore } from "@apikit/redis"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Support from "./support/redis.js"

const consecutive: Store.Config = { trip: [CircuitBreaker.consecutive(3)], probes: 1 }

describe.skipIf(!Support.available)("CircuitBreakerStore contract: Redis", () => {
  StoreContracts.circuitBreakerStore(() => RedisCircuitBreakerStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("instances share circuits: one trips it, the other is rejected; every key expires", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const instance = () =>
        Support.instance(
          Store.CircuitBreakerStore,
          RedisCircuitBreakerStore.layer({ idleTtl: "10 minutes" }).pipe(Layer.provide(Support.layer({ prefix })))
        )
      const a = yield* instance()
      const b = yield* instance()
      for (let i = 0; i < 3; i++) {
        const { permit } = yield* a.acquire({ key: "crm", config: consecutive, now: 0, leaseMillis: 10 })
        if (permit._tag === "Rejected") return expect.unreachable()
        yield* a.record({
          key: "crm",
          config: consecutive,
          permit,
          outcome: { _tag: "Failure", durationMillis: 1 },
          openMillis: 60_000,
          now: 0
        })
      }
      expect((yield* b.acquire({ key: "crm", config: consecutive, now: 1000, leaseMillis: 10 })).permit).toEqual({
        _tag: "Rejected",
        state: "Open",
        retryAfterMillis: 59_000
      })
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.map(([k]) => k)).toEqual([`${prefix}cb:crm`])
      // Open for a minute: kept for the open time plus the idle TTL.
      expect(keys[0]![1]).toBeGreaterThan(600_000)
      expect(keys[0]![1]).toBeLessThanOrEqual(660_000)
    }))
})
