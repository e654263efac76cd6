import { QuotaStore } from "@apikit/rate-limit"
import { Redis, RedisQuotaStore } from "@apikit/redis"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer } from "effect"
import * as Support from "./support/redis.js"

const W = 1000
const LIMIT = 100

describe.skipIf(!Support.available)("QuotaStore contract (@apikit/testing/StoreContracts): Redis", () => {
  StoreContracts.quotaStore(() => RedisQuotaStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("instances share one budget, and the key expires once idle", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const { client } = yield* Support.instance(Redis.Redis, Support.layer({ prefix }))
      const store = () =>
        Support.instance(
          QuotaStore.QuotaStore,
          RedisQuotaStore.layer({ idle: "5 seconds" }).pipe(Layer.provide(Support.layer({ prefix })))
        )
      const a = yield* store()
      const b = yield* store()
      const now = yield* Clock.currentTimeMillis
      yield* a.observe("crm", { limit: 10, remaining: 3, resetAt: now + 3000 }, W)
      expect((yield* b.acquire("crm", 2, LIMIT, W))._tag).toBe("Admitted")
      expect((yield* a.acquire("crm", 1, LIMIT, W))._tag).toBe("Admitted")
      expect((yield* b.acquire("crm", 1, LIMIT, W))._tag).toBe("Wait")
      const keys = yield* Support.keysWithTtl(client, prefix)
      expect(keys.length).toBe(1)
      expect(keys[0]![1]).toBeGreaterThan(3000)
      expect(keys[0]![1]).toBeLessThanOrEqual(8000)
    }))
})
