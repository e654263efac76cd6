/**
 * graphql: a GraphQL API on the same pipeline as REST calls.
 *
 * The Sandbox serves its projects API at `POST /graphql` too (graphql-js,
 * a Relay connection, coded errors, and a Shopify-style point budget of 60
 * points restored at 30 per second here). Operations are typed by Effect
 * Schemas; every one runs through OAuth 2.0 client credentials, an adaptive
 * limiter, transient retry and timeouts:
 *
 * - mutations create projects (never retried without an idempotency key);
 * - a connection streams every project once, the cursor in the variables;
 * - errors arrive typed: `NOT_FOUND` as NotFound, `CONFLICT` in a
 *   GraphQLError with its code and path, a syntax error as GraphQLError(Syntax);
 * - queries that cost more points than remain come back `THROTTLED` in a 200:
 *   the client waits for the budget (the wait comes from the response's
 *   `extensions.cost`) instead of failing.
 *
 * Run it: `pnpm example graphql`.
 */
import { OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient, type ApiError, GraphQL } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { Sandbox } from "@apikit/testing"
import { Chunk, Console, Effect, Layer, Redacted, Schema, Stream } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

const CreateProject = GraphQL.operation({
  document: `mutation CreateProject($name: String!) { createProject(name: $name) { id name } }`,
  variables: Schema.Struct({ name: Schema.String }),
  data: Schema.Struct({ createProject: Project })
})

const GetProject = GraphQL.operation({
  document: `query GetProject($id: ID!) { project(id: $id) { id name } }`,
  variables: Schema.Struct({ id: Schema.String }),
  data: Schema.Struct({ project: Schema.NullOr(Project) })
})

const ListProjects = GraphQL.operation({
  document: `
    query ListProjects($first: Int!, $after: String) {
      projects(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { id name } }
      }
    }`,
  variables: Schema.Struct({ first: Schema.Number, after: Schema.optional(Schema.NullOr(Schema.String)) }),
  data: Schema.Struct({
    projects: Schema.Struct({
      pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) }),
      edges: Schema.Array(Schema.Struct({ node: Project }))
    })
  })
})

const names = ["Apollo", "Gemini", "Mercury", "Skylab", "Voyager", "Pioneer", "Viking", "Cassini", "Juno"]

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: sandbox.baseUrl,
    auth: yield* OAuth2.clientCredentials({
      tokenUrl: `${sandbox.baseUrl}/oauth/token`,
      clientId: Sandbox.defaultClient.clientId,
      clientSecret: Redacted.make(Sandbox.defaultClient.clientSecret)
    }),
    rateLimit: yield* RateLimit.make({ limit: 50, window: "1 second", adaptive: true }),
    retry: Retry.transient({ times: 5, base: "100 millis", cap: "5 seconds" }),
    timeout: { attempt: "5 seconds", total: "30 seconds" }
  })
  const gql = GraphQL.make(api)
  const lines: Array<string> = []

  // Mutations: typed variables in, typed data out.
  for (const name of names) yield* gql.run(CreateProject, { name })
  lines.push(`created ${names.length} projects with createProject`)

  // A Relay connection as a lazy Stream: 4 per page.
  const before = (yield* sandbox.stats).requests
  const listed = yield* Stream.runCollect(
    gql.connection(ListProjects, { first: 4 }, { connection: (data) => data.projects })
  )
  const requests = (yield* sandbox.stats).requests - before
  lines.push(
    `streamed ${Chunk.size(listed)} projects in ${requests} requests: ${
      Chunk.toReadonlyArray(listed).map((p) => p.name).join(", ")
    }`
  )

  // Errors in the effect channel: one catchTags for REST and GraphQL alike.
  const outcome = <A>(effect: Effect.Effect<A, ApiError.ApiError | GraphQL.GraphQLError>) =>
    effect.pipe(
      Effect.map(() => "ok"),
      Effect.catchTags({
        NotFound: () => Effect.succeed("NotFound"),
        GraphQLError: (e) =>
          Effect.succeed(`GraphQLError(${e.reason}: ${e.errors.map((x) => x.code ?? "-").join(",")})`)
      }),
      Effect.catchAll((e) => Effect.succeed(e._tag))
    )
  lines.push(`missing project: ${yield* outcome(gql.run(GetProject, { id: "prj_999" }))}`)
  lines.push(`duplicate name:  ${yield* outcome(gql.run(CreateProject, { name: "Apollo" }))}`)
  const Broken = GraphQL.operation({ document: `query Broken { projects(first: 2) {`, data: Schema.Unknown })
  lines.push(`broken document: ${yield* outcome(gql.run(Broken))}`)

  // Points, not requests: 8 listings of 21 points each against a 60-point bucket.
  const throttledBefore = (yield* sandbox.stats).rateLimited
  const results = yield* Effect.forEach(
    Array.from({ length: 8 }, (_, i) => i),
    () => Effect.either(gql.run(ListProjects, { first: 20 })),
    { concurrency: 4 }
  )
  const failed = results.filter((r) => r._tag === "Left").length
  const throttled = (yield* sandbox.stats).rateLimited - throttledBefore
  lines.push(`8 queries of 21 points on a 60-point budget: ${8 - failed} succeeded, ${failed} failed`)

  yield* Console.log(`apikit graphql against ${sandbox.baseUrl}/graphql`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  yield* Console.log(`  (the server answered THROTTLED ${throttled} times; each became a wait)`)
  return lines
})

export const main = program.pipe(
  Effect.provide(
    Layer.mergeAll(
      Sandbox.layer({ rateLimit: false, graphql: { points: 60, restoreRate: 30 } }),
      UndiciHttpClient.layer,
      TokenStore.layerMemory,
      RateLimit.layerMemory
    )
  )
)
