/**
 * `POST /graphql`: the projects API as GraphQL, executed by graphql-js (the
 * reference implementation), so syntax and validation errors are the real
 * ones. Behind the same gateway as `/v1/*` (auth, per-client request limit,
 * faults), plus what GraphQL APIs add:
 *
 * - a Relay connection, `projects(first, after)`;
 * - resolver errors with codes: `NOT_FOUND` (`project(id)`), `CONFLICT` and
 *   `BAD_USER_INPUT` (`createProject`);
 * - a Shopify-style point budget per client: each query's requested cost is
 *   1 + the sum of its `first` arguments; over the available points it is
 *   answered `THROTTLED` with HTTP 200, and every response carries
 *   `extensions.cost` (requestedQueryCost, actualQueryCost, throttleStatus).
 *
 * Request errors are 400 when the client accepts `application/graphql-response+json`
 * (GraphQL over HTTP), 200 otherwise.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { GraphQLError } from "graphql/error/GraphQLError.js"
import { execute } from "graphql/execution/execute.js"
import { Kind } from "graphql/language/kinds.js"
import { parse } from "graphql/language/parser.js"
import { visit } from "graphql/language/visitor.js"
import { buildSchema } from "graphql/utilities/buildASTSchema.js"
import { validate } from "graphql/validation/validate.js"
import * as Projects from "./projects.js"
import type * as State from "./state.js"

/** The sandbox's GraphQL schema (SDL). @internal */
export const sdl = `
  type Query {
    "A project by id; NOT_FOUND when there is none."
    project(id: ID!): Project
    "Live projects in creation order, as a Relay connection."
    projects(first: Int = 20, after: String): ProjectConnection!
    "Who is calling."
    viewer: Viewer!
  }
  type Mutation {
    "Creates a project; CONFLICT when the name is taken, BAD_USER_INPUT when it is invalid."
    createProject(name: String!, description: String): Project!
  }
  type Viewer { clientId: String! }
  type Project { id: ID! name: String! description: String status: String! createdAt: String! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type ProjectEdge { cursor: String! node: Project! }
  type ProjectConnection { pageInfo: PageInfo! edges: [ProjectEdge!]! nodes: [Project!]! }
`

const schema = buildSchema(sdl)

/** The point budget of each client. @internal */
export interface Budget {
  readonly points: number
  readonly restoreRate: number
}

interface Bucket {
  available: number
  last: number
}

const buckets = new WeakMap<State.State, Map<string, Bucket>>()

const projectOut = (p: State.Project) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  status: p.status,
  createdAt: p.created_at
})

const error = (message: string, code: string) => new GraphQLError(message, { extensions: { code } })

const rootValue = (state: State.State, clientId: string, now: number) => ({
  viewer: () => ({ clientId }),
  project: ({ id }: { id: string }) => {
    const project = state.projects.get(id)
    return project === undefined ? error(`No project ${id}`, "NOT_FOUND") : projectOut(project)
  },
  projects: ({ after, first }: { first: number; after?: string | null }) => {
    if (!(first >= 1 && first <= 100)) return error("first must be from 1 to 100", "BAD_USER_INPUT")
    let from = 0
    if (after !== undefined && after !== null && after !== "") {
      const m = /^prj_(\d{1,15})$/.exec(Buffer.from(after, "base64url").toString("utf8"))
      if (m === null) return error("after is not a cursor this API issued; start without one", "BAD_USER_INPUT")
      from = Number(m[1])
    }
    const page: Array<State.Project> = []
    let more = false
    for (const project of state.projects.values()) {
      if (Number(project.id.slice(4)) <= from) continue
      if (page.length === first) {
        more = true
        break
      }
      page.push(project)
    }
    return {
      pageInfo: { hasNextPage: more, endCursor: page.length === 0 ? null : Projects.cursorOf(page.at(-1)!.id) },
      edges: page.map((p) => ({ cursor: Projects.cursorOf(p.id), node: projectOut(p) })),
      nodes: page.map(projectOut)
    }
  },
  createProject: (input: { name: string; description?: string | null }) => {
    const result = Projects.create(state, { _tag: "Json", value: input }, now, undefined)
    if (result.status === 201) return projectOut(state.projects.get((result.body as { id: string }).id)!)
    const body = result.body as { message?: string; errors?: ReadonlyArray<{ field: string; message: string }> }
    return result.status === 409
      ? error(body.message ?? "conflict", "CONFLICT")
      : error((body.errors ?? []).map((e) => `${e.field} ${e.message}`).join("; "), "BAD_USER_INPUT")
  }
})

/** 1 + the sum of the `first` arguments (literal or variable; a connection without one counts 20). */
const requestedCost = (document: ReturnType<typeof parse>, variables: Record<string, unknown>) => {
  let cost = 1
  visit(document, {
    Field: (field) => {
      if (field.name.value !== "projects") return
      const arg = field.arguments?.find((a) => a.name.value === "first")
      const value = arg === undefined
        ? 20
        : arg.value.kind === Kind.INT
        ? Number(arg.value.value)
        : arg.value.kind === Kind.VARIABLE
        ? Number(variables[arg.value.name.value] ?? 20)
        : 20
      cost += Number.isFinite(value) ? Math.max(0, value) : 20
    }
  })
  return cost
}

/** `POST /graphql` for an authenticated client. @internal */
export const handler = (state: State.State, clientId: string, budget: Budget) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    const strict = (request.headers["accept"] ?? "").includes("application/graphql-response+json")
    const type = strict ? "application/graphql-response+json" : "application/json"
    const reply = (status: number, body: unknown) =>
      HttpServerResponse.unsafeJson(body, { status, headers: { "content-type": type } })
    const requestError = (errors: ReadonlyArray<unknown>) => reply(strict ? 400 : 200, { errors })

    const text = yield* Effect.orElseSucceed(request.text, () => "")
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return requestError([{ message: "The body is not JSON; send {\"query\": \"...\", \"variables\": {...}}" }])
    }
    const { operationName, query, variables } = (typeof body === "object" && body !== null ? body : {}) as {
      query?: unknown
      variables?: unknown
      operationName?: unknown
    }
    if (typeof query !== "string") return requestError([{ message: "The body has no \"query\" string" }])
    const vars = typeof variables === "object" && variables !== null ? variables as Record<string, unknown> : {}

    let document: ReturnType<typeof parse>
    try {
      document = parse(query)
    } catch (e) {
      return requestError([e instanceof GraphQLError ? e.toJSON() : { message: String(e) }])
    }
    const invalid = validate(schema, document)
    if (invalid.length > 0) {
      return requestError(invalid.map((e) => ({ ...e.toJSON(), extensions: { code: "GRAPHQL_VALIDATION_FAILED" } })))
    }

    let perClient = buckets.get(state)
    if (perClient === undefined) buckets.set(state, perClient = new Map())
    let bucket = perClient.get(clientId)
    if (bucket === undefined) perClient.set(clientId, bucket = { available: budget.points, last: now })
    bucket.available = Math.min(budget.points, bucket.available + ((now - bucket.last) / 1000) * budget.restoreRate)
    bucket.last = now
    const cost = requestedCost(document, vars)
    const throttleStatus = () => ({
      maximumAvailable: budget.points,
      currentlyAvailable: Math.floor(bucket.available),
      restoreRate: budget.restoreRate
    })
    if (cost > bucket.available) {
      state.counters.rateLimited++
      return reply(200, {
        errors: [{
          message: "Throttled: the query costs more points than are available; retry when the budget has restored",
          extensions: { code: "THROTTLED" }
        }],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: throttleStatus() } }
      })
    }
    bucket.available -= cost

    const result = yield* Effect.promise(() =>
      Promise.resolve(execute({
        schema,
        document,
        rootValue: rootValue(state, clientId, now),
        variableValues: vars,
        operationName: typeof operationName === "string" ? operationName : null
      }))
    )
    // Variables that do not coerce are request errors: no data at all.
    if (!("data" in result) || result.data === undefined) {
      return requestError((result.errors ?? []).map((e) => e.toJSON()))
    }
    return reply(200, {
      data: result.data,
      ...(result.errors === undefined ? {} : { errors: result.errors.map((e) => e.toJSON()) }),
      extensions: { cost: { requestedQueryCost: cost, actualQueryCost: cost, throttleStatus: throttleStatus() } }
    })
  })
