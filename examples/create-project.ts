/**
 * create-project: the seed flow of most integrations.
 *
 * An app creates projects in a third-party SaaS. It authenticates with OAuth 2.0
 * client credentials (the token is fetched once, cached and renewed by the auth
 * policy), sends every create with an idempotency key so a retried request can
 * never create twice, retries transient failures (the Sandbox answers a quarter
 * of requests with a 5xx here), and handles the API's answers as typed errors
 * with `Effect.catchTags`: a taken name, an invalid payload.
 *
 * Run it: `pnpm example create-project`.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Retry } from "@apikit/retry"
import { Sandbox } from "@apikit/testing"
import { Config, Console, Effect, Layer, Redacted, Schema } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String, status: Schema.String })
const NewProject = Schema.Struct({ name: Schema.String, description: Schema.optional(Schema.String) })

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: `${sandbox.baseUrl}/v1`,
    name: "projects",
    auth: yield* OAuth2.clientCredentials({
      tokenUrl: `${sandbox.baseUrl}/oauth/token`,
      clientId: Sandbox.defaultClient.clientId,
      // Redacted from Config to the wire; the Sandbox's public fixture when unset.
      clientSecret: yield* Config.redacted("PROJECTS_CLIENT_SECRET").pipe(
        Config.withDefault(Redacted.make(Sandbox.defaultClient.clientSecret))
      )
    }),
    retry: Retry.transient({ times: 5, base: "50 millis" }),
    timeout: { attempt: "2 seconds", total: "10 seconds" }
  })

  const create = (project: typeof NewProject.Type, idempotencyKey: true | string = true) =>
    api.post("/projects", { body: project, bodySchema: NewProject, success: Project, idempotencyKey }).pipe(
      Effect.map((p) => `created ${p.id} ${p.name} (${p.status})`),
      Effect.catchTags({
        Conflict: () => Effect.succeed(`Conflict: "${project.name}" is taken; pick another name`),
        BadRequest: (e) =>
          Effect.succeed(`BadRequest ${e.status}: ${e.fieldErrors.map((f) => `${f.field} ${f.message}`).join("; ")}`)
      })
    )

  const lines: Array<string> = []
  for (const name of ["Apollo", "Gemini", "Apollo", ""]) lines.push(yield* create({ name }))
  // The same key twice, as after a timeout whose request did arrive: one project, the original answer.
  lines.push(yield* create({ name: "Mercury" }, "create-mercury-1"))
  lines.push(yield* create({ name: "Mercury" }, "create-mercury-1"))

  const stats = yield* sandbox.stats
  lines.push(
    `server: ${stats.projectsCreated} created, ${stats.duplicates} duplicates, ${stats.faults.errors} 5xx absorbed by retry, ${stats.tokensIssued} token issued`
  )
  yield* Console.log(`apikit create-project against ${sandbox.baseUrl}`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

export const main = program.pipe(
  Effect.provide(Layer.mergeAll(
    // Sequential calls on a seeded sandbox: the same faults every run.
    Sandbox.layer({ faults: { errorRate: 0.25 }, seed: 4 }),
    TokenStore.layerMemory,
    UndiciHttpClient.layer
  ))
)
