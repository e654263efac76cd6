/**
 * From an OpenAPI document to a first working call (`pnpm example openapi`).
 *
 * The walk-through (README, "From an OpenAPI document"):
 *
 *   pnpm apikit sandbox --port 4010                       # serves its own document at /openapi.json
 *   pnpm apikit generate openapi http://127.0.0.1:4010/openapi.json --out examples/generated/sandbox
 *
 * wrote `examples/generated/sandbox/` (committed): Schemas, the HttpApi, `client`, auth from the
 * document's security schemes, pagination and mocks. This program starts a Sandbox and makes the
 * first calls through the generated client and the full pipeline.
 */
import { Auth } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Retry } from "@apikit/retry"
import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Console, Effect, Layer, Redacted } from "effect"
import * as SandboxApi from "./generated/sandbox/index.js"

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: sandbox.baseUrl, // the document's server is SandboxApi.baseUrl
    auth: Auth.apiKey({ header: "X-API-Key", value: Redacted.make(Sandbox.defaultClient.apiKey) }),
    retry: Retry.transient({ times: 3, base: "100 millis" })
  })
  // The document declares Idempotency-Key on create, so the generated settings send one per call.
  const client = SandboxApi.client(api)
  const created = yield* client.projects.create({ payload: { name: "Apollo" } })
  const page = yield* client.projects.list({ urlParams: { limit: 10 } })
  const missing = yield* client.projects.get({ path: { id: "prj_999" } }).pipe(
    Effect.map(() => "found?"),
    Effect.catchIf(
      (e): e is { readonly message: string } => "message" in e && !("_tag" in e),
      (e) => Effect.succeed(e.message)
    )
  )
  yield* Console.log(`created ${created.id} (${created.name}); ${page.data.length} project(s) listed; 404: ${missing}`)
  return { created, listed: page.data.length }
})

export const main = program.pipe(Effect.provide(Layer.merge(Sandbox.layer({ seed: 1 }), NodeHttpClient.layerUndici)))
