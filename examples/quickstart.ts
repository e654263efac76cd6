/**
 * quickstart: the smallest complete apikit program.
 *
 * It starts a tiny "Projects API" in-process on 127.0.0.1 (a free port), then
 * talks to it through an ApiClient: a typed GET, an idempotent POST, and four
 * calls that fail, each handled by its typed error with `Effect.catchTags`.
 * Nothing throws; every outcome is a value or a typed error.
 *
 * Run it: `pnpm example quickstart` (or `pnpm start`).
 */
import { ApiClient, type ApiError } from "@apikit/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Console, Duration, Effect, Layer, Schema } from "effect"
import { createServer } from "node:http"

// ---------------------------------------------------------------------------
// The API we integrate with, described once as Schemas.

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
type Project = typeof Project.Type
const NewProject = Schema.Struct({ name: Schema.String })

// ---------------------------------------------------------------------------
// A stand-in for the third-party server (later examples use the full sandbox).

const projects = new Map<string, Project>([["p_1", { id: "p_1", name: "Apollo" }]])

const ProjectsApi = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/v1/projects/:id",
    Effect.flatMap(HttpRouter.params, ({ id }) => {
      const project = projects.get(id ?? "")
      return project === undefined
        ? HttpServerResponse.json({ message: `no project ${id}` }, {
          status: 404,
          headers: { "x-request-id": "req_404" }
        })
        : HttpServerResponse.json(project)
    })
  ),
  HttpRouter.post(
    "/v1/projects",
    Effect.gen(function*() {
      const body = yield* HttpServerRequest.schemaBodyJson(NewProject).pipe(Effect.orElseSucceed(() => ({ name: "" })))
      if (body.name.trim() === "") {
        return yield* HttpServerResponse.json({ errors: [{ field: "name", message: "must not be empty" }] }, {
          status: 422
        })
      }
      if ([...projects.values()].some((p) => p.name === body.name)) {
        return yield* HttpServerResponse.json({ message: "name taken" }, { status: 409 })
      }
      const project = { id: `p_${projects.size + 1}`, name: body.name }
      projects.set(project.id, project)
      return yield* HttpServerResponse.json(project, { status: 201 })
    })
  ),
  HttpRouter.get(
    "/v1/reports",
    HttpServerResponse.json({ message: "slow down" }, {
      status: 429,
      headers: { "retry-after": "30", "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0" }
    })
  ),
  HttpRouter.get("/v1/legacy/:id", HttpServerResponse.json({ id: 42, title: "renamed field" }))
)

const ServerLive = HttpServer.serve(ProjectsApi).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

// ---------------------------------------------------------------------------
// The program: everything here is what application code looks like.

/** Explains a failed call in one line, exhaustively by error type. */
const explain = <A>(call: Effect.Effect<A, ApiError.ApiError>, ok: (a: A) => string) =>
  call.pipe(
    Effect.map(ok),
    Effect.catchTags({
      NotFound: (e) => Effect.succeed(`NotFound: nothing there (request id ${e.requestId})`),
      BadRequest: (e) =>
        Effect.succeed(`BadRequest: ${e.fieldErrors.map((f) => `${f.field} ${f.message}`).join(", ")}`),
      Conflict: () => Effect.succeed("Conflict: that name is taken"),
      RateLimited: (e) =>
        Effect.succeed(
          `RateLimited: retry in ${
            e.retryAfter ? Duration.format(e.retryAfter) : "?"
          } (${e.rateLimit?.remaining}/${e.rateLimit?.limit} left)`
        ),
      DecodeError: (e) => Effect.succeed(`DecodeError: ${e.detail.split("\n").slice(0, 3).join(" ").trim()}`)
    }),
    // Everything else (timeouts, transport, 5xx...) in one place.
    Effect.catchAll((e) => Effect.succeed(`${e._tag}: ${e.message}`))
  )

export const program = Effect.gen(function*() {
  const port = yield* HttpServer.addressWith((a) => Effect.succeed(a._tag === "TcpAddress" ? a.port : 0))
  const api = yield* ApiClient.make({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    name: "projects-api",
    timeout: { attempt: "2 seconds", total: "10 seconds" }
  })

  const lines = [
    yield* explain(
      api.get("/projects/:id", { params: { id: "p_1" }, success: Project }),
      (p) => `GET    ok: ${p.name}`
    ),
    yield* explain(
      api.post("/projects", {
        body: { name: "Gemini" },
        bodySchema: NewProject,
        success: Project,
        idempotencyKey: true
      }),
      (p) => `POST   ok: created ${p.id} (${p.name})`
    ),
    yield* explain(api.get("/projects/:id", { params: { id: "p_404" }, success: Project }), () => "unexpected"),
    yield* explain(api.post("/projects", { body: { name: "" }, success: Project }), () => "unexpected"),
    yield* explain(api.post("/projects", { body: { name: "Apollo" }, success: Project }), () => "unexpected"),
    yield* explain(api.get("/reports"), () => "unexpected"),
    yield* explain(api.get("/legacy/:id", { params: { id: "1" }, success: Project }), () => "unexpected")
  ]
  yield* Console.log(`apikit quickstart: calling the Projects API on 127.0.0.1:${port}`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

/** The program with its production layers: the Node (undici) transport and the local server. */
export const main = program.pipe(Effect.provide(Layer.merge(ServerLive, NodeHttpClient.layerUndici)))
