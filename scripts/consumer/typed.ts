// A user's app in TypeScript, type-checked under flags stricter than apikit's own
// (see tsconfig.json): the README's first integration, plus a test-layer swap.
import { OAuth2, TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient, type ApiError } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { RedisStores } from "@apikit/redis"
import { Retry } from "@apikit/retry"
import { MockHttp } from "@apikit/testing"
import { StandardWebhooks } from "@apikit/webhooks"
import { Config, Context, Effect, Layer, Schema } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

export class Projects extends Context.Tag("app/Projects")<Projects, {
  readonly create: (name: string) => Effect.Effect<typeof Project.Type, ApiError.ApiError>
}>() {
  static layer = Layer.effect(
    Projects,
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: yield* Config.string("PROJECTS_API_URL"),
        auth: yield* OAuth2.clientCredentials({
          tokenUrl: yield* Config.string("PROJECTS_TOKEN_URL"),
          clientId: yield* Config.string("PROJECTS_CLIENT_ID"),
          clientSecret: yield* Config.redacted("PROJECTS_CLIENT_SECRET")
        }),
        rateLimit: yield* RateLimit.make({ limit: 100, window: "1 minute", adaptive: true }),
        circuitBreaker: yield* CircuitBreaker.make({
          trip: CircuitBreaker.failureRate({ threshold: 0.5, window: 20 })
        }),
        retry: Retry.transient({ times: 5, base: "200 millis", cap: "10 seconds" }),
        timeout: { attempt: "5 seconds", total: "30 seconds" }
      })
      return {
        create: (name) => api.post("/v1/projects", { body: { name }, success: Project, idempotencyKey: true })
      }
    })
  )
}

const stores = Layer.mergeAll(TokenStore.layerMemory, RateLimit.layerMemory, CircuitBreakerStore.layerMemory)
export const production = Projects.layer.pipe(Layer.provide(Layer.mergeAll(stores, UndiciHttpClient.layer)))
export const manyInstances = Projects.layer.pipe(
  Layer.provide(Layer.mergeAll(RedisStores.layerConfig(), UndiciHttpClient.layer))
)
export const inTests = Projects.layer.pipe(
  Layer.provide(
    Layer.mergeAll(
      stores,
      MockHttp.layer([MockHttp.post("https://projects.test/v1/projects", MockHttp.json(201, { id: "p_1", name: "x" }))])
    )
  )
)

export const created: Effect.Effect<string, ApiError.ApiError, Projects> = Effect.map(
  Effect.flatMap(Projects, (projects) => projects.create("Apollo")),
  (project) => project.id
)

export const verify = StandardWebhooks.verifier
