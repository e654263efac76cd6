import { ApiClient, Endpoints, Policy } from "@apikit/http"
import { MockHttp } from "@apikit/testing"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiSchema,
  type HttpBody,
  HttpClient,
  type HttpClientRequest,
  HttpClientResponse
} from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Schema, TestClock } from "effect"

class Project extends Schema.Class<Project>("Project")({ id: Schema.Number, name: Schema.String }) {}
const NewProject = Schema.Struct({ name: Schema.NonEmptyString })

class NameTaken extends Schema.TaggedError<NameTaken>()(
  "NameTaken",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}
class ProjectMissing extends Schema.TaggedError<ProjectMissing>()(
  "ProjectMissing",
  { id: Schema.Number },
  HttpApiSchema.annotations({ status: 404 })
) {}

const ProjectsApi = HttpApi.make("projects")
  .add(
    HttpApiGroup.make("projects")
      .add(
        HttpApiEndpoint.get("get", "/v1/projects/:id")
          .setPath(Schema.Struct({ id: Schema.NumberFromString }))
          .addSuccess(Project)
          .addError(ProjectMissing)
      )
      .add(
        HttpApiEndpoint.get("list", "/v1/projects")
          .setUrlParams(
            Schema.Struct({ limit: Schema.NumberFromString, archived: Schema.optional(Schema.BooleanFromString) })
          )
          .setHeaders(Schema.Struct({ "x-tenant": Schema.String }))
          .addSuccess(Schema.Array(Project))
      )
      .add(
        HttpApiEndpoint.post("create", "/v1/projects")
          .setPayload(NewProject)
          .addSuccess(Project, { status: 201 })
          .addError(NameTaken)
      )
      .add(HttpApiEndpoint.del("remove", "/v1/projects/:id").setPath(Schema.Struct({ id: Schema.NumberFromString })))
  )
  .add(
    HttpApiGroup.make("health", { topLevel: true }).add(
      HttpApiEndpoint.get("ping", "/ping").setPayload(Schema.Struct({ verbose: Schema.NumberFromString })).addSuccess(
        Schema.Struct({ ok: Schema.Boolean })
      )
    )
  )

const routes = [
  MockHttp.get("/v1/projects/:id", (req) =>
    req.params.id === "1"
      ? MockHttp.json(200, { id: 1, name: "Apollo" })
      : req.params.id === "2"
      ? MockHttp.json(404, { _tag: "ProjectMissing", id: 2 })
      : req.params.id === "3"
      ? MockHttp.json(404, { unexpected: "shape" })
      : MockHttp.json(200, { id: "not a number", name: 1 })),
  MockHttp.get(
    "/v1/projects",
    (req) => MockHttp.json(200, [{ id: Number(req.url.searchParams.get("limit")), name: "x" }])
  ),
  MockHttp.post("/v1/projects", (req) =>
    (req.json as { name: string }).name === "Apollo"
      // Third-party bodies carry no _tag: the declared class's tag is filled in.
      ? MockHttp.json(409, { message: "name taken" })
      : MockHttp.json(201, { id: 7, name: (req.json as { name: string }).name })),
  MockHttp.del("/v1/projects/:id", MockHttp.sequence(MockHttp.status(503), MockHttp.status(204))),
  MockHttp.get("/ping", MockHttp.json(200, { ok: true }))
]

const retryOnce = Policy.make(
  "retry",
  "retry-once",
  (next) => (request, context) =>
    Effect.catchTag(next(request, context), "ServerError", () => next(request, { ...context, attempt: 2 }))
)

const setup = Effect.map(
  ApiClient.make({ baseUrl: "https://api.example.com", retry: retryOnce }),
  (api) =>
    Endpoints.client(ProjectsApi, api, {
      endpoints: {
        "projects.create": { idempotencyKey: true },
        "projects.remove": { timeout: { attempt: "1 second" } }
      }
    })
)

describe("Endpoints.client", () => {
  it.effect("encodes path params, query and headers through their Schemas and decodes the success", () =>
    Effect.gen(function*() {
      const client = yield* setup
      const project = yield* client.projects.get({ path: { id: 1 } })
      expect(project).toBeInstanceOf(Project)
      expect(project.name).toBe("Apollo")
      const list = yield* client.projects.list({
        urlParams: { limit: 5, archived: false },
        headers: { "x-tenant": "t1" }
      })
      expect(list.map((p) => p.id)).toEqual([5])
      const sent = yield* MockHttp.requests
      expect(sent[0]!.url.pathname).toBe("/v1/projects/1")
      expect(sent[1]!.url.search).toBe("?limit=5&archived=false")
      expect(sent[1]!.headers["x-tenant"]).toBe("t1")
      // A top-level group's endpoint sits on the client itself; a GET payload goes to the query.
      expect(yield* client.ping({ payload: { verbose: 1 } })).toEqual({ ok: true })
      expect((yield* MockHttp.requests)[2]!.url.search).toBe("?verbose=1")
    }).pipe(Effect.provide(MockHttp.layer(routes))))

  it.effect("decodes declared errors by status; other failures stay ApiErrors", () =>
    Effect.gen(function*() {
      const client = yield* setup
      const missing = yield* Effect.flip(client.projects.get({ path: { id: 2 } }))
      expect(missing).toBeInstanceOf(ProjectMissing)
      expect(missing._tag === "ProjectMissing" && missing.id).toBe(2)

      // Declared status, body of another shape: nothing is lost, it stays the NotFound ApiError.
      const odd = yield* Effect.flip(client.projects.get({ path: { id: 3 } }))
      expect(odd._tag).toBe("NotFound")

      const taken = yield* Effect.flip(client.projects.create({ payload: { name: "Apollo" } }))
      expect(taken).toBeInstanceOf(NameTaken)
      expect(taken._tag === "NameTaken" && taken.message).toBe("name taken")

      const mismatch = yield* Effect.flip(client.projects.get({ path: { id: 4 } }))
      expect(mismatch._tag).toBe("DecodeError")
      expect(mismatch._tag === "DecodeError" && mismatch.url).toBe("https://api.example.com/v1/projects/4")
    }).pipe(Effect.provide(MockHttp.layer(routes))))

  it.effect("rejects a payload its Schema refuses before sending anything", () =>
    Effect.gen(function*() {
      const client = yield* setup
      const error = yield* Effect.flip(client.projects.create({ payload: { name: "" } }))
      expect(error._tag === "InvalidRequest" && error.reason).toBe("InvalidBody")
      expect(yield* MockHttp.count()).toBe(0)
    }).pipe(Effect.provide(MockHttp.layer(routes))))

  it.effect("runs every call through the pipeline, with per-endpoint overrides", () =>
    Effect.gen(function*() {
      const client = yield* setup
      const created = yield* client.projects.create({ payload: { name: "Gemini" } })
      expect(created.id).toBe(7)
      const [post] = yield* MockHttp.requests
      expect(post!.headers["idempotency-key"]).toMatch(/^[0-9a-f-]{36}$/)

      // remove: 503 then 204, retried by the client's retry policy; its attempt timeout is 1 s.
      yield* client.projects.remove({ path: { id: 9 } })
      expect(yield* MockHttp.count({ method: "DELETE" })).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer(routes))))

  it.effect("applies a per-endpoint attempt timeout on the Effect clock", () =>
    Effect.gen(function*() {
      const client = yield* setup
      const fiber = yield* Effect.fork(Effect.flip(client.projects.remove({ path: { id: 9 } })))
      yield* TestClock.adjust("1 second")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag === "Timeout" && Duration.toMillis(error.after)).toBe(1000)
    }).pipe(Effect.provide(MockHttp.layer([MockHttp.del("/v1/projects/:id", MockHttp.hang)]))))
})

describe("Endpoints.client: bodies other than JSON", () => {
  const Upload = Schema.Struct({
    file: Schema.instanceOf(Blob),
    purpose: Schema.Literal("avatar"),
    tags: Schema.optional(Schema.Array(Schema.String)),
    meta: Schema.optional(Schema.Struct({ source: Schema.String }))
  })
  const FilesApi = HttpApi.make("files").add(
    HttpApiGroup.make("files")
      .add(
        HttpApiEndpoint.post("upload", "/files")
          .setPayload(Upload.annotations({ [HttpApiSchema.AnnotationMultipart]: {} }))
          .addSuccess(Schema.Struct({ id: Schema.String }))
      )
      .add(
        HttpApiEndpoint.put("putBytes", "/files/:id/content")
          .setPath(Schema.Struct({ id: Schema.String }))
          .setPayload(
            Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/png" }))
          )
          .addSuccess(Schema.Void, { status: 204 })
      )
      .add(
        HttpApiEndpoint.post("render", "/markdown/raw")
          .setPayload(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain" })))
          .addSuccess(Schema.Void, { status: 204 })
      )
      .add(
        HttpApiEndpoint.get("preview", "/files/:id/preview").setPath(Schema.Struct({ id: Schema.String })).addSuccess(
          Schema.Unknown
        )
      )
  )
  // The request as the transport got it (MockHttp records bytes; a FormData is kept as one here).
  const sent: Array<HttpClientRequest.HttpClientRequest> = []
  const capture = Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) => {
      sent.push(request)
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          request.url.endsWith("/files")
            ? new Response(JSON.stringify({ id: "f_1" }), { headers: { "content-type": "application/json" } })
            : request.url.endsWith("/preview")
            ? new Response("<p>preview</p>", { headers: { "content-type": "text/html" } })
            : new Response(null, { status: 204 })
        )
      )
    })
  )

  it.effect("multipart/form-data from a typed payload; bytes and text with their content types", () =>
    Effect.gen(function*() {
      sent.length = 0
      const client = Endpoints.client(FilesApi, yield* ApiClient.make({ baseUrl: "https://api.example.com" }))
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47])
      const uploaded = yield* client.files.upload({
        payload: {
          file: new Blob([png], { type: "image/png" }),
          purpose: "avatar",
          tags: ["a", "b"],
          meta: { source: "cli" }
        }
      })
      expect(uploaded).toEqual({ id: "f_1" })
      const form = sent[0]!.body
      expect(form._tag).toBe("FormData")
      const fields = (form as HttpBody.FormData).formData
      expect(fields.get("purpose")).toBe("avatar")
      expect(fields.getAll("tags")).toEqual(["a", "b"])
      const file = fields.get("file") as Blob
      expect(new Uint8Array(yield* Effect.promise(() => file.arrayBuffer()))).toEqual(png)
      expect(yield* Effect.promise(() => (fields.get("meta") as Blob).text())).toBe(`{"source":"cli"}`)

      yield* client.files.putBytes({ path: { id: "f_1" }, payload: png })
      const bytes = sent[1]!.body as HttpBody.Uint8Array
      expect([bytes._tag, bytes.contentType, bytes.body]).toEqual(["Uint8Array", "image/png", png])

      yield* client.files.render({ payload: "# Hello" })
      const text = sent[2]!.body as HttpBody.Uint8Array
      expect([text.contentType, new TextDecoder().decode(text.body)]).toEqual(["text/plain", "# Hello"])

      // A success declared as Schema.Unknown (the default) that is not JSON comes back as its text.
      expect(yield* client.files.preview({ path: { id: "f_1" } })).toBe("<p>preview</p>")
    }).pipe(Effect.provide(capture)))

  it.effect("a multipart payload that its Schema refuses is not sent", () =>
    Effect.gen(function*() {
      sent.length = 0
      const client = Endpoints.client(FilesApi, yield* ApiClient.make({ baseUrl: "https://api.example.com" }))
      const error = yield* Effect.flip(
        client.files.upload({ payload: { file: "not a blob" as unknown as Blob, purpose: "avatar" } })
      )
      expect(error._tag === "InvalidRequest" && error.reason).toBe("InvalidBody")
      expect(sent).toEqual([])
    }).pipe(Effect.provide(capture)))
})
