import { ApiClient, GraphQL } from "@apikit/http"
import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Layer, Redacted, Schema, Stream, TestClock } from "effect"

const withSandbox = (options: Sandbox.Options = {}) =>
  Effect.provide(Layer.mergeAll(Sandbox.layer({ rateLimit: false, ...options }), NodeHttpClient.layerUndici))

const client = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: sandbox.baseUrl,
    headers: { "x-api-key": Redacted.make(Sandbox.defaultClient.apiKey) }
  })
  return GraphQL.make(api)
})

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
const Create = GraphQL.operation({
  document: `mutation Create($name: String!) { createProject(name: $name) { id name } }`,
  variables: Schema.Struct({ name: Schema.String }),
  data: Schema.Struct({ createProject: Project })
})
const Get = GraphQL.operation({
  document: `query Get($id: ID!) { project(id: $id) { id name } }`,
  variables: Schema.Struct({ id: Schema.String }),
  data: Schema.Struct({ project: Schema.NullOr(Project) })
})
const List = GraphQL.operation({
  document:
    `query List($first: Int!, $after: String) { projects(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name } } }`,
  variables: Schema.Struct({ first: Schema.Number, after: Schema.optional(Schema.NullOr(Schema.String)) }),
  data: Schema.Struct({
    projects: Schema.Struct({
      pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) }),
      nodes: Schema.Array(Project)
    })
  })
})

describe("Sandbox POST /graphql", () => {
  it.effect("creates, reads and pages through projects; every node once", () =>
    Effect.gen(function*() {
      const gql = yield* client
      const created = yield* Effect.forEach(
        Array.from({ length: 25 }, (_, i) => `Project ${i}`),
        (name) => gql.run(Create, { name }),
        { concurrency: 5 }
      )
      const first = created[0]!.createProject
      expect(yield* gql.run(Get, { id: first.id })).toEqual({ project: first })
      const nodes = yield* Stream.runCollect(gql.connection(List, { first: 10 }, { connection: (d) => d.projects }))
      const ids = Chunk.toReadonlyArray(nodes).map((n) => n.id)
      // Creation order on the server, each once.
      expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `prj_${i + 1}`))
      expect([...ids].sort()).toEqual(created.map((c) => c.createProject.id).sort())
      const stats = yield* Effect.flatMap(Sandbox.Sandbox, (s) => s.stats)
      expect(stats.projectsCreated).toBe(25)
      expect(stats.requests).toBe(25 + 1 + 3)
    }).pipe(withSandbox()), 30_000)

  it.effect("errors are typed: NOT_FOUND, CONFLICT, syntax, validation, a missing credential", () =>
    Effect.gen(function*() {
      const gql = yield* client
      expect((yield* Effect.flip(gql.run(Get, { id: "prj_404" })))._tag).toBe("NotFound")
      yield* gql.run(Create, { name: "Apollo" })
      const taken = yield* Effect.flip(gql.run(Create, { name: "Apollo" }))
      expect(taken._tag === "GraphQLError" && taken.errors[0]!.code).toBe("CONFLICT")
      const blank = yield* Effect.flip(gql.run(Create, { name: " " }))
      expect(blank._tag === "GraphQLError" && blank.errors[0]!.code).toBe("BAD_USER_INPUT")
      const syntax = yield* Effect.flip(
        gql.run(GraphQL.operation({ document: `query X { project(`, data: Schema.Unknown }))
      )
      expect(syntax._tag === "GraphQLError" && [syntax.reason, syntax.status]).toEqual(["Syntax", 400])
      const invalid = yield* Effect.flip(
        gql.run(GraphQL.operation({ document: `query X { projects { owner } }`, data: Schema.Unknown }))
      )
      expect(invalid._tag === "GraphQLError" && invalid.reason).toBe("Validation")
      const sandbox = yield* Sandbox.Sandbox
      const anonymous = GraphQL.make(yield* ApiClient.make({ baseUrl: sandbox.baseUrl }))
      expect((yield* Effect.flip(anonymous.run(Get, { id: "x" })))._tag).toBe("Unauthorized")
    }).pipe(withSandbox()))

  it.effect("a point budget: THROTTLED with the cost report, on the sandbox Clock", () =>
    Effect.gen(function*() {
      const gql = yield* client
      // 30 points, 10 restored per second; List(first: 20) costs 21.
      yield* gql.run(List, { first: 20 })
      const throttled = yield* Effect.flip(gql.run(List, { first: 20 }))
      expect(throttled._tag === "RateLimited" && [throttled.reason, throttled.status]).toEqual(["TooManyRequests", 200])
      // 9 available, 21 requested: (21 - 9) / 10 s.
      expect(throttled._tag === "RateLimited" && throttled.retryAfter).toEqual(Duration.millis(1200))
      yield* TestClock.adjust("1200 millis")
      yield* gql.run(List, { first: 20 })
      expect((yield* Effect.flatMap(Sandbox.Sandbox, (s) => s.stats)).rateLimited).toBe(1)
    }).pipe(withSandbox({ graphql: { points: 30, restoreRate: 10 } })))
})
