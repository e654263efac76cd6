/**
 * two-apis: one app, two integrations, each with its own policies.
 *
 * `Projects` talks to a project-management API with OAuth 2.0 client
 * credentials, a strict client-side rate limit and retries. `Billing` talks to
 * a second API with an API key and a circuit breaker, no retries. Policies are
 * per integration, keyed by its name: when Billing goes down, its breaker opens
 * and its calls fail fast with `CircuitOpen`, while Projects carries on
 * untouched. Two Sandboxes stand in for the two providers; the billing one
 * answers every request with a 5xx.
 *
 * Run it: `pnpm example two-apis`.
 */
import { Auth, OAuth2, TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient, type ApiError } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { Sandbox } from "@apikit/testing"
import { Console, Context, Duration, Effect, Layer, Redacted, Schema } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

class Projects extends Context.Tag("app/Projects")<Projects, {
  readonly create: (name: string) => Effect.Effect<typeof Project.Type, ApiError.ApiError>
}>() {
  static layer = (baseUrl: string) =>
    Layer.effect(
      Projects,
      Effect.gen(function*() {
        const api = yield* ApiClient.make({
          baseUrl: `${baseUrl}/v1`,
          name: "projects",
          auth: yield* OAuth2.clientCredentials({
            tokenUrl: `${baseUrl}/oauth/token`,
            clientId: Sandbox.defaultClient.clientId,
            clientSecret: Redacted.make(Sandbox.defaultClient.clientSecret)
          }),
          rateLimit: yield* RateLimit.make({ limit: 5, window: "1 second", adaptive: true }),
          retry: Retry.transient({ times: 3 }),
          timeout: { attempt: "2 seconds", total: "10 seconds" }
        })
        return {
          create: (name) => api.post("/projects", { body: { name }, success: Project, idempotencyKey: true })
        }
      })
    )
}

class Billing extends Context.Tag("app/Billing")<Billing, {
  readonly invoices: Effect.Effect<unknown, ApiError.ApiError>
}>() {
  static layer = (baseUrl: string) =>
    Layer.effect(
      Billing,
      Effect.gen(function*() {
        const api = yield* ApiClient.make({
          baseUrl: `${baseUrl}/v1`,
          name: "billing",
          auth: Auth.apiKey({ header: "X-API-Key", value: Redacted.make(Sandbox.defaultClient.apiKey) }),
          circuitBreaker: yield* CircuitBreaker.make({
            trip: CircuitBreaker.consecutive(3),
            openDuration: "30 seconds"
          }),
          timeout: { attempt: "2 seconds" }
        })
        // The sandbox has no invoices; its project list stands in for them.
        return { invoices: api.get("/projects") }
      })
    )
}

export const program = Effect.gen(function*() {
  const projects = yield* Projects
  const billing = yield* Billing
  const lines: Array<string> = []
  for (let i = 1; i <= 5; i++) {
    const outcome = yield* billing.invoices.pipe(
      Effect.as("ok"),
      Effect.catchTags({
        ServerError: (e) => Effect.succeed(`ServerError ${e.status}`),
        CircuitOpen: (e) =>
          Effect.succeed(`CircuitOpen, not sent (next probe in ${Math.ceil(Duration.toSeconds(e.retryAfter))} s)`)
      })
    )
    lines.push(`billing call ${i}: ${outcome}`)
    const project = yield* projects.create(`Project ${i}`)
    lines.push(`projects: created ${project.id} ${project.name}`)
  }
  yield* Console.log("apikit two-apis: Projects (OAuth, limiter, retry) and Billing (API key, breaker)")
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

/** Two sandboxes: a healthy projects API and a billing API that is down. */
const apps = Layer.unwrapScoped(Effect.gen(function*() {
  const projects = Context.get(yield* Layer.build(Sandbox.layer()), Sandbox.Sandbox)
  const billing = Context.get(yield* Layer.build(Sandbox.layer({ faults: { errorRate: 1 }, seed: 1 })), Sandbox.Sandbox)
  return Layer.merge(Projects.layer(projects.baseUrl), Billing.layer(billing.baseUrl))
}))

export const main = program.pipe(
  Effect.provide(apps),
  Effect.provide(Layer.mergeAll(
    TokenStore.layerMemory,
    RateLimit.layerMemory,
    CircuitBreakerStore.layerMemory,
    UndiciHttpClient.layer
  ))
)
