/**
 * Cross-check against an independent implementation: the @apikit/testing
 * Sandbox's authorization server and API, over a real socket.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"

const client = { clientId: "app 1", clientSecret: "se:cr+et %é" }

describe("OAuth2.clientCredentials against the Sandbox", () => {
  for (const clientAuth of ["client_secret_basic", "client_secret_post"] as const) {
    it.effect(`${clientAuth}: one token for 50 concurrent calls, 401 replay, renewal at expiry`, () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const api = yield* ApiClient.make({
          baseUrl: `${sandbox.baseUrl}/v1`,
          auth: yield* OAuth2.clientCredentials({
            tokenUrl: `${sandbox.baseUrl}/oauth/token`,
            clientId: client.clientId,
            clientSecret: Redacted.make(client.clientSecret),
            clientAuth
          })
        })
        yield* Effect.all(Array.from({ length: 50 }, () => api.get("/projects")), { concurrency: "unbounded" })
        expect((yield* sandbox.stats).tokensIssued).toBe(1)

        yield* sandbox.revokeTokens
        yield* api.get("/projects")
        expect((yield* sandbox.stats).tokensIssued).toBe(2)

        yield* TestClock.adjust("55 minutes") // the sandbox's tokens live 1 hour; margin 6 minutes
        yield* api.get("/projects")
        expect((yield* sandbox.stats).tokensIssued).toBe(3)
      }).pipe(
        Effect.provide(
          Layer.mergeAll(
            Sandbox.layer({ clients: [client], rateLimit: false, seed: 1 }),
            NodeHttpClient.layerUndici,
            TokenStore.layerMemory
          )
        )
      ))
  }
})
