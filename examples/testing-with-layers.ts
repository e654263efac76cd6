/**
 * testing-with-layers: the same program, production layers or test layers.
 *
 * `Projects` is an integration written once. It asks its context for what it
 * needs: Config (the URL and a Redacted API key) and an `HttpClient`. `main`
 * provides the real thing: a Sandbox on a socket, undici, and Config pointing
 * at the Sandbox. Its test (examples/test/testing-with-layers.test.ts) runs the
 * very same `program` against `MockHttp` (an in-memory HttpClient replaying a
 * 503 then a 201) with time on the TestClock: the retry backoff passes with
 * `TestClock.adjust`, no sleeping, no network, and the test can read every
 * request that was "sent". Nothing in `Projects` or `program` changes: only the
 * layers do.
 *
 * Run it: `pnpm example testing-with-layers`.
 */
import { ApiClient, type ApiError } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Retry } from "@apikit/retry"
import { Sandbox } from "@apikit/testing"
import { Config, ConfigProvider, Console, Context, Effect, Layer, Schema } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

export class Projects extends Context.Tag("app/Projects")<Projects, {
  readonly create: (name: string) => Effect.Effect<typeof Project.Type, ApiError.ApiError>
}>() {
  static layer = Layer.effect(
    Projects,
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: yield* Config.string("PROJECTS_API_URL"),
        headers: { "x-api-key": yield* Config.redacted("PROJECTS_API_KEY") },
        retry: Retry.transient({ times: 3, base: "1 second", jitter: "none" }),
        timeout: { attempt: "5 seconds", total: "30 seconds" }
      })
      return { create: (name) => api.post("/projects", { body: { name }, success: Project, idempotencyKey: true }) }
    })
  )
}

/** What the app does; it knows nothing about sockets, mocks or clocks. */
export const program = Effect.gen(function*() {
  const projects = yield* Projects
  const project = yield* projects.create("Apollo")
  const line = `created ${project.id} ${project.name}`
  yield* Console.log(`apikit testing-with-layers: ${line}`)
  return line
})

/** Production-like layers: a Sandbox on 127.0.0.1, undici, and Config naming the Sandbox. */
const sandboxConfig = Layer.unwrapEffect(
  Effect.map(Sandbox.Sandbox, (sandbox) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(
      new Map([["PROJECTS_API_URL", `${sandbox.baseUrl}/v1`], ["PROJECTS_API_KEY", Sandbox.defaultClient.apiKey]])
    )))
)

export const main = program.pipe(
  Effect.provide(Projects.layer),
  Effect.provide(sandboxConfig),
  Effect.provide(Layer.merge(Sandbox.layer(), UndiciHttpClient.layer))
)
