import { ApiClient, GraphQL, Policy } from "@apikit/http"
import { MockGraphQL, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, Duration, Effect, Exit, Schema, Stream } from "effect"

const base = "https://api.example.com"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
const GetProject = GraphQL.operation({
  document: `query GetProject($id: ID!) { project(id: $id) { id name } }`,
  variables: Schema.Struct({ id: Schema.String }),
  data: Schema.Struct({ project: Schema.NullOr(Project) })
})
const CreateProject = GraphQL.operation({
  document: `mutation CreateProject($name: String!) { createProject(name: $name) { id name } }`,
  variables: Schema.Struct({ name: Schema.String }),
  data: Schema.Struct({ createProject: Project })
})

/** A policy in the retry slot that records what the pipeline told it, and re-sends once on any error. */
interface Seen {
  readonly idempotent: boolean
  readonly outcome: string
  readonly rateLimit?: { limit?: number | undefined; remaining?: number | undefined; resetMs?: number | undefined }
  readonly header?: string | undefined
}
const observe = (seen: Array<Seen>) =>
  Policy.make("retry", "observe", (next) => (request, context) => {
    const once = next(request, context).pipe(
      Effect.tapBoth({
        onSuccess: (r) =>
          Effect.sync(() =>
            seen.push({
              idempotent: context.idempotent,
              outcome: "ok",
              header: r.headers["ratelimit"],
              ...(r.rateLimit === undefined ? {} : {
                rateLimit: {
                  limit: r.rateLimit.limit,
                  remaining: r.rateLimit.remaining,
                  resetMs: r.rateLimit.reset === undefined ? undefined : Duration.toMillis(r.rateLimit.reset)
                }
              })
            })
          ),
        onFailure: (e) => Effect.sync(() => seen.push({ idempotent: context.idempotent, outcome: e._tag }))
      })
    )
    return context.idempotent ? Effect.orElse(once, () => once) : once
  })

describe("GraphQL", () => {
  it.effect("runs a typed operation: variables encoded, operationName sent, data decoded", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const gql = GraphQL.make(api)
      const data = yield* gql.run(GetProject, { id: "p_1" })
      expect(data.project).toEqual({ id: "p_1", name: "Apollo" })
      const [sent] = yield* MockHttp.requests
      expect(sent!.json).toEqual({
        query: GetProject.document,
        variables: { id: "p_1" },
        operationName: "GetProject"
      })
      expect(sent!.headers["accept"]).toContain("application/graphql-response+json")
      expect(sent!.headers["content-type"]).toBe("application/json")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        GetProject: (req) => MockGraphQL.data({ project: { id: req.variables["id"], name: "Apollo" } })
      })
    ]))))

  it.effect("errors[] in a 200 fail with GraphQLError: message, path, locations, code; partial data only on request", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const gql = GraphQL.make(api)
      const error = yield* Effect.flip(gql.run(GetProject, { id: "p_1" }))
      expect(error._tag).toBe("GraphQLError")
      if (error._tag !== "GraphQLError") return
      expect(error.reason).toBe("Execution")
      expect(error.partialData).toBe(true)
      expect(error.operation).toBe("GetProject")
      expect(error.errors).toHaveLength(1)
      expect(error.errors[0]).toMatchObject({
        message: "database exploded",
        path: ["project", "name"],
        locations: [{ line: 1, column: 48 }],
        code: "INTERNAL_SERVER_ERROR"
      })
      expect(error.message).toContain("database exploded (at project.name) [INTERNAL_SERVER_ERROR]")
      expect(error.message).toContain("partial")

      const PartialProject = GraphQL.operation({
        document: GetProject.document,
        variables: Schema.Struct({ id: Schema.String }),
        data: Schema.Struct({
          project: Schema.NullOr(Schema.Struct({ id: Schema.String, name: Schema.NullOr(Schema.String) }))
        })
      })
      const partial = yield* gql.partial(PartialProject, { id: "p_1" })
      expect(partial.data.project).toEqual({ id: "p_1", name: null })
      expect(partial.errors.map((e) => e.message)).toEqual(["database exploded"])
      // A Schema that the nulls break: the errors are the failure, not a DecodeError.
      const strict = yield* Effect.flip(gql.partial(GetProject, { id: "p_1" }))
      expect(strict._tag).toBe("GraphQLError")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        GetProject: MockGraphQL.errors([{
          message: "database exploded",
          path: ["project", "name"],
          locations: [{ line: 1, column: 48 }],
          extensions: { code: "INTERNAL_SERVER_ERROR" }
        }], { data: { project: { id: "p_1", name: null } } })
      })
    ]))))

  it.effect("provider codes map onto ApiError, so one catchTags serves REST and GraphQL", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const gql = GraphQL.make(api)
      const tagOf = (id: string) =>
        gql.run(GetProject, { id }).pipe(
          Effect.map(() => "ok"),
          Effect.catchTags({
            NotFound: (e) => Effect.succeed(`NotFound ${e.status}`),
            Forbidden: () => Effect.succeed("Forbidden"),
            Unauthorized: (e) => Effect.succeed(`Unauthorized: ${e.message}`),
            RateLimited: (e) => Effect.succeed(`RateLimited ${e.retryAfter ? Duration.format(e.retryAfter) : "-"}`),
            GraphQLError: (e) => Effect.succeed(`GraphQLError ${e.reason}`)
          })
        )
      expect(yield* tagOf("missing")).toBe("NotFound 200")
      expect(yield* tagOf("secret")).toBe("Forbidden")
      expect(yield* tagOf("anon")).toContain("reported Unauthorized in a 200 response")
      expect(yield* tagOf("busy")).toBe("RateLimited 2s")
      expect(yield* tagOf("mixed")).toBe("GraphQLError Execution")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        GetProject: (req) => {
          switch (req.variables["id"]) {
            case "missing":
              // GitHub's shape: `type` instead of extensions.code.
              return MockGraphQL.errors([{ type: "NOT_FOUND", path: ["project"], message: "Could not resolve" }], {
                data: { project: null }
              })
            case "secret":
              return MockGraphQL.errors([{ message: "no", extensions: { code: "FORBIDDEN" } }], { data: null })
            case "anon":
              return MockGraphQL.errors([{ message: "log in", extensions: { code: "UNAUTHENTICATED" } }])
            case "busy":
              return MockGraphQL.errors([{ message: "Throttled", extensions: { code: "THROTTLED" } }], {
                extensions: {
                  cost: {
                    requestedQueryCost: 100,
                    actualQueryCost: null,
                    throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 0, restoreRate: 50 }
                  }
                }
              })
            default:
              return MockGraphQL.errors([
                { message: "no", extensions: { code: "FORBIDDEN" } },
                { message: "gone", extensions: { code: "NOT_FOUND" } }
              ], { data: null })
          }
        }
      })
    ]))))

  it.effect("queries are retryable (idempotent); mutations only with an idempotency key or retry: true", () => {
    const seen: Array<{ idempotent: boolean; outcome: string }> = []
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base, retry: observe(seen) })
      const gql = GraphQL.make(api)
      // THROTTLED is seen inside the pipeline (by the retry slot), and the query is re-sent.
      expect(yield* gql.run(GetProject, { id: "p_1" })).toEqual({ project: { id: "p_1", name: "A" } })
      expect(seen).toEqual([{ idempotent: true, outcome: "RateLimited" }, {
        idempotent: true,
        outcome: "ok",
        ratelimit: undefined
      }])
      seen.length = 0
      const failed = yield* Effect.flip(gql.run(CreateProject, { name: "n" }))
      expect(failed._tag).toBe("RateLimited")
      expect(seen.map((s) => s.idempotent)).toEqual([false])
      seen.length = 0
      yield* gql.run(CreateProject, { name: "n" }, { retry: true })
      expect(seen.map((s) => s.idempotent)).toEqual([true])
      seen.length = 0
      yield* gql.run(CreateProject, { name: "n" }, { idempotencyKey: "k-1" })
      expect(seen.map((s) => s.idempotent)).toEqual([true])
      const sent = yield* MockHttp.requests
      expect(sent.at(-1)!.headers["idempotency-key"]).toBe("k-1")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        GetProject: MockGraphQL.sequence(
          MockGraphQL.errors([{ message: "Throttled", extensions: { code: "THROTTLED" } }]),
          MockGraphQL.data({ project: { id: "p_1", name: "A" } })
        ),
        CreateProject: MockGraphQL.sequence(
          MockGraphQL.errors([{ message: "Throttled", extensions: { code: "THROTTLED" } }]),
          MockGraphQL.data({ createProject: { id: "p_2", name: "n" } })
        )
      })
    ])))
  })

  it.effect("a cost report reaches the policies as the response's quota in points; nothing left when it cannot pay again", () => {
    const seen: Array<Seen> = []
    const cost = (available: number) => ({
      cost: {
        requestedQueryCost: 50,
        actualQueryCost: 40,
        throttleStatus: { maximumAvailable: 1000, currentlyAvailable: available, restoreRate: 50 }
      }
    })
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base, retry: observe(seen) })
      const gql = GraphQL.make(api)
      // A run that declares its cost in points: the limiter counts points, so it gets the whole quota.
      yield* gql.run(GetProject, { id: "a" }, { cost: 50 })
      // One that does not: the limiter counts calls, so it hears only that the budget cannot pay again.
      yield* gql.run(GetProject, { id: "b" })
      expect(seen.map((s) => s.rateLimit)).toEqual([
        { limit: 1000, remaining: 960, resetMs: 800 },
        // 20 points left, 50 requested: 30 more at 50/s is 600 ms. No limit: it is in points.
        { limit: undefined, remaining: 0, resetMs: 600 }
      ])
      // No header is made up for it.
      expect(seen.map((s) => s.header)).toEqual([undefined, undefined])
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        GetProject: MockGraphQL.sequence(
          MockGraphQL.data({ project: null }, { extensions: cost(960) }),
          // 20 points left, 50 requested: 30 more at 50/s is 600 ms.
          MockGraphQL.data({ project: null }, { extensions: cost(20) })
        )
      })
    ])))
  })

  it.effect("syntax and validation errors are typed, at 200 or 400", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const gql = GraphQL.make(api)
      const Broken = GraphQL.operation({ document: `query Broken { project(`, data: Schema.Unknown })
      const syntax = yield* Effect.flip(gql.run(Broken))
      expect(syntax._tag === "GraphQLError" && syntax.reason).toBe("Syntax")
      expect(syntax._tag === "GraphQLError" && syntax.status).toBe(400)
      const Invalid = GraphQL.operation({ document: `query Invalid { nope }`, data: Schema.Unknown })
      const invalid = yield* Effect.flip(gql.run(Invalid))
      expect(invalid._tag === "GraphQLError" && invalid.reason).toBe("Validation")
      expect(invalid.message).toContain("Cannot query field \"nope\" on type \"Query\". [GRAPHQL_VALIDATION_FAILED]")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", {
        Broken: MockGraphQL.errors([{
          message: "Syntax Error: Expected Name, found <EOF>.",
          locations: [{ line: 1, column: 24 }]
        }], {
          status: 400
        }),
        Invalid: MockGraphQL.errors([{
          message: "Cannot query field \"nope\" on type \"Query\".",
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" }
        }])
      })
    ]))))

  it.effect("operations: name and kind come from the document; bad documents fail before sending", () =>
    Effect.gen(function*() {
      expect(GraphQL.operation({ document: `{ viewer { login } }`, data: Schema.Unknown }).kind).toBe("query")
      const named = GraphQL.operation({
        document:
          `# a comment with mutation Fake\nfragment F on Project { id }\nmutation Make($q: String = "query X") { search(query: $q) { ...F } }`,
        data: Schema.Unknown
      })
      expect([named.kind, named.name]).toEqual(["mutation", "Make"])
      const two = GraphQL.operation({ document: `query A { a } query B { b }`, data: Schema.Unknown })
      expect(two.problem).toContain("several operations")
      expect(GraphQL.operation({ document: `query A { a } query B { b }`, name: "B", data: Schema.Unknown }).kind)
        .toBe("query")
      const api = yield* ApiClient.make({ baseUrl: base })
      const error = yield* Effect.flip(GraphQL.make(api).run(two))
      expect(error._tag === "InvalidRequest" && error.reason).toBe("InvalidBody")
      const badVars = yield* Effect.flip(GraphQL.make(api).run(GetProject, { id: 1 as unknown as string }))
      expect(badVars._tag).toBe("InvalidRequest")
      expect(yield* MockHttp.count()).toBe(0)
    }).pipe(Effect.provide(MockHttp.layer([]))))

  it.effect("GraphQL Code Generator's TypedDocumentString: types from the document, no Schema needed", () =>
    Effect.gen(function*() {
      // What codegen emits with documentMode: "string" (client preset), reduced to its shape.
      class TypedDocumentString<Result, Variables> extends String
        implements GraphQL.DocumentTypeDecoration<Result, Variables>
      {
        declare __apiType?: (variables: Variables) => Result
        constructor(value: string) {
          super(value)
        }
      }
      const ViewerDocument = new TypedDocumentString<{ viewer: { login: string } }, { first?: number | null }>(
        `query Viewer($first: Int) { viewer { login } }`
      )
      const Viewer = GraphQL.operation({ document: ViewerDocument })
      expect([Viewer.kind, Viewer.name]).toEqual(["query", "Viewer"])
      const api = yield* ApiClient.make({ baseUrl: base })
      const data = yield* GraphQL.make(api).run(Viewer, { first: 1 })
      const login: string = data.viewer.login
      expect(login).toBe("octocat")
      const [sent] = yield* MockHttp.requests
      expect((sent!.json as { query: string }).query).toBe("query Viewer($first: Int) { viewer { login } }")
    }).pipe(Effect.provide(MockHttp.layer([
      MockGraphQL.endpoint("/graphql", { Viewer: MockGraphQL.data({ viewer: { login: "octocat" } }) })
    ]))))

  it.effect("a body that is not a GraphQL response is a DecodeError", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const error = yield* Effect.flip(GraphQL.make(api).run(GetProject, { id: "x" }))
      expect(error._tag === "DecodeError" && error.reason).toBe("SchemaMismatch")
      const mismatch = yield* Effect.flip(GraphQL.make(api, { path: "/v2" }).run(GetProject, { id: "x" }))
      expect(mismatch._tag === "DecodeError" && mismatch.detail).toContain("name")
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.post("/graphql", MockHttp.json(200, { hello: "world" })),
      MockGraphQL.endpoint("/v2", { GetProject: MockGraphQL.data({ project: { id: "x" } }) })
    ]))))

  describe("connections", () => {
    const ListProjects = GraphQL.operation({
      document:
        `query ListProjects($first: Int!, $after: String) { projects(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id name } } } }`,
      variables: Schema.Struct({ first: Schema.Number, after: Schema.optional(Schema.NullOr(Schema.String)) }),
      data: Schema.Struct({
        projects: Schema.Struct({
          pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) }),
          edges: Schema.Array(Schema.Struct({ node: Project }))
        })
      })
    })
    const all = Array.from({ length: 25 }, (_, i) => ({ id: `p_${i}`, name: `Project ${i}` }))
    const page = (after: string | null, first: number) => {
      const from = after === null ? 0 : Number(after.slice(1)) + 1
      const slice = all.slice(from, from + first)
      return {
        projects: {
          pageInfo: {
            hasNextPage: from + first < all.length,
            endCursor: slice.length ? `c${from + slice.length - 1}` : null
          },
          edges: slice.map((node) => ({ node }))
        }
      }
    }

    it.effect("streams every node once, lazily, with the cursor in the variables", () =>
      Effect.gen(function*() {
        const api = yield* ApiClient.make({ baseUrl: base })
        const gql = GraphQL.make(api)
        const stream = gql.connection(ListProjects, { first: 10 }, { connection: (d) => d.projects })
        const nodes = Chunk.toReadonlyArray(yield* Stream.runCollect(stream))
        expect(nodes.map((n) => n.id)).toEqual(all.map((p) => p.id))
        const sent = yield* MockHttp.requests
        expect(sent.map((r) => (r.json as { variables: unknown }).variables)).toEqual([
          { first: 10, after: null },
          { first: 10, after: "c9" },
          { first: 10, after: "c19" }
        ])
        yield* Stream.runCollect(stream.pipe(Stream.take(5)))
        expect(yield* MockHttp.count()).toBe(4)
      }).pipe(Effect.provide(MockHttp.layer([
        MockGraphQL.endpoint("/graphql", {
          ListProjects: (req) =>
            MockGraphQL.data(page((req.variables["after"] as string | null) ?? null, req.variables["first"] as number))
        })
      ]))))

    it.effect("a server that ignores the cursor: NotAdvancing before the repeated page reaches the consumer", () =>
      Effect.gen(function*() {
        const api = yield* ApiClient.make({ baseUrl: base })
        const gql = GraphQL.make(api)
        const seen: Array<string> = []
        const error = yield* gql.connection(ListProjects, { first: 10 }, { connection: (d) => d.projects }).pipe(
          Stream.runForEach((n) => Effect.sync(() => seen.push(n.id))),
          Effect.flip
        )
        expect(error._tag === "PaginationError" && error.reason).toBe("NotAdvancing")
        expect(seen).toEqual(all.slice(0, 10).map((p) => p.id))
        expect(new Set(seen).size).toBe(seen.length)
      }).pipe(Effect.provide(MockHttp.layer([
        MockGraphQL.endpoint("/graphql", { ListProjects: MockGraphQL.data(page(null, 10)) })
      ]))))

    it.effect("a variables Schema without the cursor variable is refused, not looped", () =>
      Effect.gen(function*() {
        const NoCursor = GraphQL.operation({
          document: ListProjects.document,
          variables: Schema.Struct({ first: Schema.Number }),
          data: ListProjects.data!
        })
        const api = yield* ApiClient.make({ baseUrl: base })
        const error = yield* GraphQL.make(api).connection(NoCursor, { first: 10 }, { connection: (d) => d.projects })
          .pipe(Stream.runDrain, Effect.flip)
        expect(error._tag === "InvalidRequest" && error.detail).toContain(`drops "after"`)
      }).pipe(Effect.provide(MockHttp.layer([
        MockGraphQL.endpoint("/graphql", {
          ListProjects: (req) => MockGraphQL.data(page((req.variables["after"] as string | null) ?? null, 10))
        })
      ]))))
  })

  it("an unknown operation in MockGraphQL is a defect naming the handled ones", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: base })
      const exit = yield* Effect.exit(GraphQL.make(api).run(CreateProject, { name: "x" }))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("Handled: GetProject")
    }).pipe(
      Effect.provide(MockHttp.layer([MockGraphQL.endpoint("/graphql", { GetProject: MockGraphQL.data({}) })])),
      Effect.runPromise
    ))
})
