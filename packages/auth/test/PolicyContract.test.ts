import { Auth, OAuth2, TokenStore } from "@apikit/auth"
import { MockHttp } from "@apikit/testing"
import * as PolicyContracts from "@apikit/testing/PolicyContracts"
import { describe } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

describe("policy contract (@apikit/testing/PolicyContracts): Auth.bearer", () =>
  PolicyContracts.policy(() => Effect.succeed(Auth.bearer(Redacted.make("t"))), () => Layer.empty))

describe("policy contract (@apikit/testing/PolicyContracts): OAuth2.clientCredentials, a slow token endpoint", () =>
  PolicyContracts.policy(
    () =>
      OAuth2.clientCredentials({
        tokenUrl: "https://auth.example.com/token",
        clientId: "app",
        clientSecret: Redacted.make("s")
      }),
    () =>
      Layer.merge(
        TokenStore.layerMemory,
        MockHttp.layer([
          MockHttp.post(
            "https://auth.example.com/token",
            MockHttp.delay("5 seconds", MockHttp.json(200, { access_token: "t", token_type: "Bearer", expires_in: 60 }))
          )
        ])
      )
  ))
