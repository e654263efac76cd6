/**
 * endpoints: describe a third-party API once, get a typed client.
 *
 * The Sandbox's project API is described with @effect/platform's HttpApi
 * (paths, query, payloads, successes, and the error bodies it declares by
 * status). `Endpoints.client` derives a client from it whose every call runs
 * through the ApiClient pipeline, so declared errors (409 NameTaken, 422
 * ValidationFailed, 404 ProjectNotFound) arrive as their own typed classes and
 * everything else as an ApiError. The last step pages through every project
 * with `Paginate.link`, following the API's `Link: rel="next"` headers.
 *
 * Run it: `pnpm example endpoints`.
 */
import { ApiClient, Endpoints, Paginate } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Sandbox } from "@apikit/testing"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Console, Effect, Layer, Redacted, Schema, Stream } from "effect"

// ---------------------------------------------------------------------------
// The API, described once.

class Project extends Schema.Class<Project>("Project")({
  id: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: Schema.Literal("active", "archived"),
  created_at: Schema.String
}) {}

const NewProject = Schema.Struct({ name: Schema.String, description: Schema.optional(Schema.String) })
const Page = Schema.Struct({ data: Schema.Array(Project), next_cursor: Schema.NullOr(Schema.String) })

class NameTaken extends Schema.TaggedError<NameTaken>()(
  "NameTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({
    status: 409
  })
) {}
class ValidationFailed extends Schema.TaggedError<ValidationFailed>()(
  "ValidationFailed",
  { errors: Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String })) },
  HttpApiSchema.annotations({ status: 422 })
) {}
class ProjectNotFound extends Schema.TaggedError<ProjectNotFound>()(
  "ProjectNotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

const IdPath = Schema.Struct({ id: Schema.String })

export const SandboxApi = HttpApi.make("sandbox").add(
  HttpApiGroup.make("projects")
    .add(
      HttpApiEndpoint.post("create", "/v1/projects")
        .setPayload(NewProject)
        .addSuccess(Project, { status: 201 })
        .addError(NameTaken)
        .addError(ValidationFailed)
    )
    .add(HttpApiEndpoint.get("get", "/v1/projects/:id").setPath(IdPath).addSuccess(Project).addError(ProjectNotFound))
    .add(
      HttpApiEndpoint.patch("archive", "/v1/projects/:id")
        .setPath(IdPath)
        .setPayload(Schema.Struct({ status: Schema.Literal("archived") }))
        .addSuccess(Project)
        .addError(ProjectNotFound)
    )
    .add(
      HttpApiEndpoint.get("list", "/v1/projects")
        .setUrlParams(Schema.Struct({ limit: Schema.NumberFromString, cursor: Schema.optional(Schema.String) }))
        .addSuccess(Page)
    )
)

// ---------------------------------------------------------------------------
// The program.

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: sandbox.baseUrl,
    name: "sandbox",
    headers: { "x-api-key": Redacted.make(Sandbox.defaultClient.apiKey) },
    timeout: { attempt: "5 seconds", total: "20 seconds" }
  })
  // Creating is not idempotent by nature: give it a key, reused on every retry.
  const client = Endpoints.client(SandboxApi, api, { endpoints: { "projects.create": { idempotencyKey: true } } })

  const lines: Array<string> = []
  const say = (line: string) => Effect.sync(() => lines.push(line))

  for (const name of ["Apollo", "Gemini", "Mercury", "Skylab", "Voyager"]) {
    const project = yield* client.projects.create({ payload: { name } })
    yield* say(`created ${project.id} ${project.name}`)
  }

  yield* client.projects.create({ payload: { name: "Apollo" } }).pipe(
    Effect.flatMap(() => say("created Apollo twice?!")),
    Effect.catchTag("NameTaken", (e) => say(`NameTaken (declared 409): ${e.message}`))
  )
  yield* client.projects.create({ payload: { name: "" } }).pipe(
    Effect.flatMap(() => say("created a nameless project?!")),
    Effect.catchTag(
      "ValidationFailed",
      (e) => say(`ValidationFailed (declared 422): ${e.errors.map((f) => `${f.field} ${f.message}`).join("; ")}`)
    )
  )
  yield* client.projects.get({ path: { id: "prj_404" } }).pipe(
    Effect.flatMap(() => say("found a ghost?!")),
    Effect.catchTag("ProjectNotFound", (e) => say(`ProjectNotFound (declared 404): ${e.message}`))
  )
  const archived = yield* client.projects.archive({ path: { id: "prj_1" }, payload: { status: "archived" } })
  yield* say(`archived ${archived.id}: ${archived.status}`)

  const first = yield* client.projects.list({ urlParams: { limit: 2 } })
  yield* say(`first page: ${first.data.map((p) => p.name).join(", ")} (next cursor ${first.next_cursor ?? "none"})`)

  // Every page, lazily, following Link: rel="next"; each page request runs through the pipeline.
  const all = yield* Paginate.link(api, "/v1/projects", {
    success: Page,
    items: (page) => page.data,
    query: { limit: 2 }
  })
    .pipe(Stream.map((p) => p.name), Stream.runCollect)
  yield* say(`all pages: ${Array.from(all).join(", ")}`)

  yield* Console.log(`apikit endpoints: the Sandbox API on ${sandbox.baseUrl}, described once with HttpApi`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

export const main = program.pipe(
  Effect.provide(Layer.merge(Sandbox.layer({ rateLimit: false }), UndiciHttpClient.layer))
)
