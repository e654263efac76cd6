/**
 * The `/v1/projects` resource: validation (400/422), unique names (409),
 * `Idempotency-Key` replay on create, cursor pagination with an RFC 8288
 * `Link` header, and webhook events on every change.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as State from "./state.js"
import type * as Webhooks from "./webhooks.js"

const Name = Schema.String.pipe(
  Schema.filter((s) => s.trim().length > 0 || "must not be blank"),
  Schema.filter((s) => s.length <= 100 || "must be at most 100 characters")
)
const Description = Schema.NullOr(
  Schema.String.pipe(Schema.filter((s) => s.length <= 1000 || "must be at most 1000 characters"))
)
const Status = Schema.Literal("active", "archived").annotations({ message: () => "must be \"active\" or \"archived\"" })

const NewProject = Schema.Struct({
  name: Name,
  description: Schema.optional(Description),
  status: Schema.optional(Status)
})

const ProjectPatch = Schema.Struct({
  name: Schema.optional(Name),
  description: Schema.optional(Description),
  status: Schema.optional(Status)
})

/** @internal */
export interface Outcome {
  readonly status: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
}

const outcome = (status: number, body: unknown, headers: Record<string, string> = {}): Outcome => ({
  status,
  body,
  headers
})

const respond = (o: Outcome, extra: Record<string, string> = {}) =>
  o.status === 204
    ? HttpServerResponse.empty({ status: 204, headers: { ...o.headers, ...extra } })
    : HttpServerResponse.unsafeJson(o.body, { status: o.status, headers: { ...o.headers, ...extra } })

const notFound = (id: string) => outcome(404, { message: `No project ${id}; list them with GET /v1/projects` })

const invalid = (errors: ReadonlyArray<{ field: string; message: string }>) => outcome(422, { errors })

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): Either.Either<A, Outcome> =>
  Either.mapLeft(
    Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(input),
    (error) => {
      // One error per field: a union reports each member it tried.
      const byField = new Map<string, string>()
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
        const field = issue.path.length === 0 ? "body" : issue.path.map(String).join(".")
        if (!byField.has(field)) byField.set(field, issue.message)
      }
      return invalid([...byField].map(([field, message]) => ({ field, message })))
    }
  )

/** @internal */
export type Body = { readonly _tag: "Json"; readonly value: unknown } | {
  readonly _tag: "Invalid"
  readonly text: string
}

const readBody = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const text = yield* Effect.orElseSucceed(request.text, () => "")
  try {
    return { _tag: "Json", value: JSON.parse(text) } as Body
  } catch {
    return { _tag: "Invalid", text } as Body
  }
})

const notJson = outcome(400, {
  message: "The body is not valid JSON; send a JSON object such as {\"name\": \"Apollo\"}"
})

// Key order and whitespace do not make a different request.
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

const nameTaken = (state: State.State, name: string, except?: string) =>
  [...state.projects.values()].some((p) => p.name === name && p.id !== except)

const conflict = (name: string) =>
  outcome(409, { message: `A project named "${name}" already exists; choose another name`, code: "name_taken" })

/** Validates and stores a new project (REST and GraphQL share it). @internal */
export const create = (state: State.State, body: Body, now: number, key: string | undefined): Outcome => {
  if (body._tag === "Invalid") return notJson
  const decoded = decode(NewProject, body.value)
  if (Either.isLeft(decoded)) return decoded.left
  const input = decoded.right
  const duplicateName = nameTaken(state, input.name)
  if (duplicateName && state.settings.uniqueNames) return conflict(input.name)
  if (duplicateName) state.counters.duplicates++
  if (key !== undefined) {
    if (state.createdKeys.has(key)) state.counters.duplicates++
    state.createdKeys.add(key)
  }
  const at = new Date(now).toISOString()
  const project: State.Project = {
    id: `prj_${state.nextProject++}`,
    name: input.name,
    description: input.description ?? null,
    status: input.status ?? "active",
    created_at: at,
    updated_at: at
  }
  state.projects.set(project.id, project)
  state.counters.projectsCreated++
  return outcome(201, { ...project }, { location: `/v1/projects/${project.id}` })
}

/** `POST /v1/projects`. @internal */
export const post = (state: State.State, webhooks: Webhooks.Emitter, clientId: string) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* readBody
    const now = yield* Clock.currentTimeMillis
    const key = request.headers["idempotency-key"]
    if (key !== undefined && (key.length === 0 || key.length > 255)) {
      return respond(outcome(400, { message: "Idempotency-Key must be 1 to 255 characters" }))
    }
    // From here to the response nothing yields, so two concurrent requests with one key cannot both create.
    const scoped = key === undefined ? undefined : `${clientId}\u0000${key}`
    const fingerprint = body._tag === "Json" ? canonical(body.value) : body.text
    if (scoped !== undefined) {
      const stored = state.idempotency.get(scoped)
      if (stored !== undefined && stored.expiresAt > now) {
        if (stored.fingerprint !== fingerprint) {
          return respond(invalid([{
            field: "Idempotency-Key",
            message: "was already used with a different body; use a new key for a new request"
          }]))
        }
        state.counters.idempotentReplays++
        return respond(stored, { "idempotent-replayed": "true" })
      }
    }
    const result = create(state, body, now, scoped)
    if (scoped !== undefined) {
      State.sweep(state.idempotency, now)
      state.idempotency.set(scoped, { ...result, fingerprint, expiresAt: now + state.settings.idempotencyTtlMillis })
    }
    if (result.status === 201) yield* webhooks.emit("project.created", result.body)
    return respond(result)
  })

/** @internal */
export const cursorOf = (id: string) => Buffer.from(id, "utf8").toString("base64url")

/** `GET /v1/projects?cursor=&limit=`. @internal */
export const list = (state: State.State) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://sandbox")
    const limitParam = url.searchParams.get("limit")
    const limit = limitParam === null ? 20 : Number(limitParam)
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return respond(outcome(400, { errors: [{ field: "limit", message: "must be an integer from 1 to 100" }] }))
    }
    const cursor = url.searchParams.get("cursor")
    let after = 0
    if (cursor !== null && cursor !== "") {
      const m = /^prj_(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"))
      if (m === null) {
        return respond(
          outcome(400, { errors: [{ field: "cursor", message: "is not a cursor this API issued; start without one" }] })
        )
      }
      after = Number(m[1])
    }
    const page: Array<State.Project> = []
    let more = false
    for (const project of state.projects.values()) {
      if (Number(project.id.slice(4)) <= after) continue
      if (page.length === limit) {
        more = true
        break
      }
      page.push(project)
    }
    const next = more ? cursorOf(page[page.length - 1]!.id) : null
    const headers: Record<string, string> = {}
    if (next !== null) {
      const host = request.headers["host"] ?? "127.0.0.1"
      headers["link"] = `<http://${host}/v1/projects?cursor=${next}&limit=${limit}>; rel="next"`
    }
    return respond(outcome(200, { data: page, next_cursor: next }, headers))
  })

/** `GET /v1/projects/:id`. @internal */
export const get = (state: State.State, id: string) => {
  const project = state.projects.get(id)
  return respond(project === undefined ? notFound(id) : outcome(200, project))
}

/** `PATCH /v1/projects/:id`. @internal */
export const patch = (state: State.State, webhooks: Webhooks.Emitter, id: string) =>
  Effect.gen(function*() {
    const body = yield* readBody
    const now = yield* Clock.currentTimeMillis
    const project = state.projects.get(id)
    if (project === undefined) return respond(notFound(id))
    if (body._tag === "Invalid") return respond(notJson)
    const decoded = decode(ProjectPatch, body.value)
    if (Either.isLeft(decoded)) return respond(decoded.left)
    const changes = decoded.right
    if (changes.name !== undefined && state.settings.uniqueNames && nameTaken(state, changes.name, id)) {
      return respond(conflict(changes.name))
    }
    if (changes.name !== undefined) project.name = changes.name
    if (changes.description !== undefined) project.description = changes.description
    if (changes.status !== undefined) project.status = changes.status
    project.updated_at = new Date(now).toISOString()
    yield* webhooks.emit("project.updated", { ...project })
    return respond(outcome(200, project))
  })

/** `DELETE /v1/projects/:id`. @internal */
export const remove = (state: State.State, webhooks: Webhooks.Emitter, id: string) =>
  Effect.gen(function*() {
    const project = state.projects.get(id)
    if (project === undefined) return respond(notFound(id))
    state.projects.delete(id)
    yield* webhooks.emit("project.deleted", { ...project })
    return respond(outcome(204, null))
  })
