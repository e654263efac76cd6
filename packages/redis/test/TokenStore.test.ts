import { TokenStore } from "@apikit/auth"
import { Redis, RedisTokenStore } from "@apikit/redis"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Layer } from "effect"
import * as Support from "./support/redis.js"

const secret = StoreContracts.sampleSecrets.accessToken

describe.skipIf(!Support.available)("TokenStore contract (@apikit/testing/StoreContracts): Redis", () => {
  StoreContracts.tokenStore(() => RedisTokenStore.layer().pipe(Layer.provide(Support.layer())))

  it.scoped("every key expires: the token's ttl, or `retain` for entries without one", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const store = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer({ retain: "2 days" }).pipe(Layer.provide(connection))
      )
      const now = yield* Clock.currentTimeMillis
      yield* store.set("cc", StoreContracts.sampleToken(now), { ttl: "1 hour" })
      yield* store.set("connection", StoreContracts.sampleToken(now))
      const ttls = new Map(yield* Support.keysWithTtl(client, prefix))
      expect(ttls.get(`${prefix}token:cc`)).toBeGreaterThan(3_590_000)
      expect(ttls.get(`${prefix}token:cc`)).toBeLessThanOrEqual(3_600_000)
      expect(ttls.get(`${prefix}token:connection`)).toBeGreaterThan(2 * 86_400_000 - 10_000)
    }))

  it.scoped("a value that is not a token set is a TokenStoreError that does not quote it", () =>
    Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const store = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer().pipe(Layer.provide(connection))
      )
      yield* Effect.promise(() =>
        client.set(`${prefix}token:bad`, `{"until":null,"token":{"accessToken":"${secret}"}}`)
      )
      const error = yield* Effect.flip(store.get("bad"))
      expect(error._tag).toBe("TokenStoreError")
      expect(error.operation).toBe("get")
      expect(error.message).not.toContain(secret)
      expect(error.message).toContain("not a token set")
    }))

  it.live("withLock: instances never hold the refresh lock at once; the lock key is gone afterwards", () =>
    Effect.scoped(Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      const layer = () => RedisTokenStore.layer({ lockPoll: "5 millis" }).pipe(Layer.provide(Support.layer({ prefix })))
      const a = yield* Support.instance(TokenStore.TokenStore, layer())
      const b = yield* Support.instance(TokenStore.TokenStore, layer())
      const log: Array<string> = []
      const entered = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const first = yield* Effect.fork(a.withLock!(
        "crm",
        Effect.gen(function*() {
          log.push("a in")
          yield* Deferred.succeed(entered, void 0)
          yield* Deferred.await(leave)
          log.push("a out")
        })
      ))
      yield* Deferred.await(entered)
      const lockTtl = yield* Effect.promise(() => client.pttl(`${prefix}token-lock:crm`))
      expect(lockTtl).toBeGreaterThan(0)
      // While a holds the lock, an impatient instance gives up instead of getting in.
      const impatient = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer({ lockWait: "40 millis", lockPoll: "5 millis" }).pipe(
          Layer.provide(Support.layer({ prefix }))
        )
      )
      const refused = yield* Effect.flip(impatient.withLock!("crm", Effect.sync(() => log.push("impatient in"))))
      expect(refused._tag).toBe("TokenStoreError")
      const second = yield* Effect.fork(b.withLock!("crm", Effect.sync(() => log.push("b in"))))
      expect(log).toEqual(["a in"])
      yield* Deferred.succeed(leave, void 0)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      expect(log).toEqual(["a in", "a out", "b in"])
      expect(yield* Effect.promise(() => client.exists(`${prefix}token-lock:crm`))).toBe(0)
    })))

  it.live("withLock: a holder that never releases delays others by at most lockTtl", () =>
    Effect.scoped(Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      // A crashed instance: its lock is there and nobody will delete it.
      yield* Effect.promise(() => client.set(`${prefix}token-lock:crm`, "crashed", "PX", 150))
      const store = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer({ lockTtl: "150 millis", lockPoll: "10 millis" }).pipe(Layer.provide(connection))
      )
      const ran = yield* store.withLock!("crm", Effect.succeed("ran"))
      expect(ran).toBe("ran")
    })))

  it.live("withLock: waiting longer than lockWait fails with TokenStoreError{operation: lock}", () =>
    Effect.scoped(Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const connection = Support.layer({ prefix })
      const { client } = yield* Support.instance(Redis.Redis, connection)
      yield* Effect.promise(() => client.set(`${prefix}token-lock:crm`, "other", "PX", 10_000))
      const store = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer({ lockWait: "60 millis", lockPoll: "10 millis" }).pipe(Layer.provide(connection))
      )
      const error = yield* Effect.flip(store.withLock!("crm", Effect.void))
      expect(error._tag).toBe("TokenStoreError")
      if (error._tag === "TokenStoreError") expect(error.operation).toBe("lock")
    })))
})
