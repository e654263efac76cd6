import { TokenStore } from "@apikit/auth"
import * as memory from "@apikit/auth/internal/memoryTokenStore"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted, TestClock } from "effect"

const token = new TokenStore.StoredToken({ accessToken: Redacted.make("t"), obtainedAt: 0, expiresAt: 60_000 })

describe("the memory token store", () => {
  it("its synchronous get is private, not part of the TokenStore interface", () => {
    expect(Object.keys(TokenStore.makeMemory()).sort()).toEqual(["delete", "get", "set"])
  })

  it.effect("drops expired entries nobody reads again; entries without a ttl stay", () =>
    Effect.gen(function*() {
      const { size, store } = memory.make()
      for (let i = 0; i < 10_000; i++) yield* store.set(`tenant-${i}`, token, { ttl: "1 hour" })
      yield* store.set("connection", token) // no ttl: a refresh-token connection, kept until deleted
      expect(size()).toBe(10_001)
      yield* TestClock.adjust("2 hours")
      yield* store.set("tenant-new", token, { ttl: "1 hour" })
      expect(size()).toBe(2)
      expect(Option.isSome(yield* store.get("connection"))).toBe(true)
    }))
})

describe("TokenStore contract (@apikit/testing/StoreContracts): memory", () =>
  StoreContracts.tokenStore(() => TokenStore.TokenStore.layerMemory))
