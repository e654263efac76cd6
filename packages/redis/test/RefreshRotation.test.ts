import { OAuth2, TokenStore } from "@apikit/auth"
import { RedisTokenStore } from "@apikit/redis"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Clock, type Context, Deferred, Effect, Fiber, Layer, Option, Redacted } from "effect"
import * as Support from "./support/redis.js"

const tokenUrl = "https://auth.example.com/token"
const connection = "oauth2-connection:web-app:user-1"

/** A strict token endpoint: each refresh token works once and is rotated (a reused one is `invalid_grant`). */
const tokenServer = (firstRequest: Deferred.Deferred<void>, release: Deferred.Deferred<void>) => {
  const presented: Array<string> = []
  let current = "rt-1"
  let n = 1
  const route: MockHttp.Route = {
    method: "POST",
    pattern: tokenUrl,
    handler: (request) =>
      Effect.gen(function*() {
        const refresh = new URLSearchParams(request.text).get("refresh_token") ?? ""
        presented.push(refresh)
        if (presented.length === 1) {
          // Hold the first refresh until the other instance is waiting for the lock.
          yield* Deferred.succeed(firstRequest, void 0)
          yield* Deferred.await(release)
        }
        if (refresh !== current) return MockHttp.json(400, { error: "invalid_grant" })
        n++
        current = `rt-${n}`
        return MockHttp.json(200, {
          access_token: `at-${n}`,
          token_type: "Bearer",
          expires_in: 3600,
          refresh_token: current
        })
      })
  }
  return { route, presented, current: () => current }
}

describe.skipIf(!Support.available)("refresh-token rotation across instances", () => {
  it.live("two instances renewing one expired connection make one refresh; the rotated token is kept", () =>
    Effect.scoped(Effect.gen(function*() {
      const prefix = Support.newPrefix()
      const firstRequest = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const waiting = yield* Deferred.make<void>()
      const server = tokenServer(firstRequest, release)
      const http = MockHttp.layer([server.route])

      const storeA = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer().pipe(Layer.provide(Support.layer({ prefix })))
      )
      const redisB = yield* Support.instance(
        TokenStore.TokenStore,
        RedisTokenStore.layer({ lockPoll: "5 millis" }).pipe(Layer.provide(Support.layer({ prefix })))
      )
      // Instance B says when it starts waiting for the refresh lock.
      const storeB: Context.Tag.Service<TokenStore.TokenStore> = {
        ...redisB,
        withLock: (key, effect) => Effect.zipRight(Deferred.succeed(waiting, void 0), redisB.withLock!(key, effect))
      }
      const oauth = (store: Context.Tag.Service<TokenStore.TokenStore>) =>
        OAuth2.authorizationCode({
          authorizeUrl: "https://auth.example.com/authorize",
          tokenUrl,
          clientId: "web-app",
          clientSecret: Redacted.make("sentinel-client-secret"),
          redirectUri: "https://app.example.com/callback"
        }).pipe(Effect.provide(http), Effect.provideService(TokenStore.TokenStore, store))
      const a = yield* oauth(storeA)
      const b = yield* oauth(storeB)

      const now = yield* Clock.currentTimeMillis
      const expired = (access: string, refresh: string) =>
        new TokenStore.StoredToken({
          accessToken: Redacted.make(access),
          obtainedAt: now - 7_200_000,
          expiresAt: now - 3_600_000,
          refreshToken: Redacted.make(refresh)
        })
      yield* storeA.set(connection, expired("at-1", "rt-1"))

      const first = yield* Effect.fork(a.token("user-1"))
      yield* Deferred.await(firstRequest)
      const second = yield* Effect.fork(b.token("user-1"))
      yield* Deferred.await(waiting)
      yield* Deferred.succeed(release, void 0)
      const [tokenA, tokenB] = [yield* Fiber.join(first), yield* Fiber.join(second)]
      expect(Redacted.value(tokenA.accessToken)).toBe("at-2")
      expect(Redacted.value(tokenB.accessToken)).toBe("at-2")
      expect(server.presented).toEqual(["rt-1"])
      // The store holds the rotated refresh token, so the next renewal (from either instance) works.
      const stored = Option.getOrThrow(yield* storeB.get(connection))
      expect(Redacted.value(stored.refreshToken!)).toBe("rt-2")
      yield* storeB.set(connection, expired("at-2", "rt-2"))
      expect(Redacted.value((yield* b.token("user-1")).accessToken)).toBe("at-3")
      expect(server.presented).toEqual(["rt-1", "rt-2"])
    })))
})
