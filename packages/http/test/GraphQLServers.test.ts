/**
 * GraphQL against real server software on 127.0.0.1: graphql-yoga with a
 * schema of our own (resolver, validation, syntax and variable errors, a
 * Relay connection), and GitHub's public schema (@octokit/graphql-schema, 1,600+ types)
 * served with mocked resolvers by @graphql-tools/mock.
 */
import { ApiClient, GraphQL, GraphQLCost } from "@apikit/http"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { addMocksToSchema } from "@graphql-tools/mock"
import { schema as github } from "@octokit/graphql-schema"
import { Chunk, Effect, Schema, Stream } from "effect"
import type * as GraphQLJs from "graphql"
import { createGraphQLError, createSchema, createYoga } from "graphql-yoga"
import { createRequire } from "node:module"

// graphql 16 ships CommonJS and ESM builds: the servers (externalized, loaded by Node) use the
// CommonJS one, so the schema is built with that instance too.
const { buildClientSchema } = createRequire(import.meta.url)("graphql") as typeof GraphQLJs

const projects = Array.from({ length: 95 }, (_, i) => ({ id: `p_${i}`, name: `Project ${i}` }))

const yoga = createYoga({
  logging: false,
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Query {
        project(id: ID!): Project
        projects(first: Int!, after: String): ProjectConnection!
        boom: String
      }
      type Mutation { rename(id: ID!, name: String!): Project! }
      type Project { id: ID! name: String! }
      type PageInfo { hasNextPage: Boolean! endCursor: String }
      type ProjectEdge { cursor: String! node: Project! }
      type ProjectConnection { pageInfo: PageInfo! edges: [ProjectEdge!]! }
    `,
    resolvers: {
      Query: {
        project: (_: unknown, { id }: { id: string }) => {
          const found = projects.find((p) => p.id === id)
          if (found === undefined) {
            throw createGraphQLError(`No project ${id}`, { extensions: { code: "NOT_FOUND" } })
          }
          return found
        },
        projects: (_: unknown, { after, first }: { first: number; after?: string | null }) => {
          const from = after === undefined || after === null ? 0 : Number(after.slice(1)) + 1
          const slice = projects.slice(from, from + first)
          return {
            pageInfo: {
              hasNextPage: from + slice.length < projects.length,
              endCursor: slice.length === 0 ? null : `c${from + slice.length - 1}`
            },
            edges: slice.map((node, i) => ({ cursor: `c${from + i}`, node }))
          }
        },
        boom: () => {
          throw createGraphQLError("the boom resolver failed", { extensions: { code: "BOOM" } })
        }
      },
      Mutation: {
        rename: () => {
          throw createGraphQLError("log in first", { extensions: { code: "UNAUTHENTICATED" } })
        }
      }
    }
  })
})

const serve = (handler: Parameters<typeof listen>[0]) =>
  Effect.flatMap(listen(handler), (baseUrl) => ApiClient.make({ baseUrl, timeout: { attempt: "5 seconds" } }))

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

describe("GraphQL against graphql-yoga", () => {
  const layer = NodeHttpClient.layerUndici

  it.scoped("a resolver error is a GraphQLError with its message, path, locations and code", () =>
    Effect.gen(function*() {
      const gql = GraphQL.make(yield* serve(yoga))
      const Boom = GraphQL.operation({
        document: `query Boom {\n  boom\n}`,
        data: Schema.Struct({ boom: Schema.NullOr(Schema.String) })
      })
      const error = yield* Effect.flip(gql.run(Boom))
      expect(error._tag).toBe("GraphQLError")
      if (error._tag !== "GraphQLError") return
      expect(error.reason).toBe("Execution")
      expect(error.status).toBe(200)
      expect(error.partialData).toBe(true)
      expect(error.errors).toEqual([
        expect.objectContaining({
          message: "the boom resolver failed",
          path: ["boom"],
          locations: [{ line: 2, column: 3 }],
          code: "BOOM"
        })
      ])
      // Asked for, the partial data comes with the errors.
      const partial = yield* gql.partial(Boom)
      expect(partial.data).toEqual({ boom: null })
      expect(partial.errors.map((e) => e.code)).toEqual(["BOOM"])
    }).pipe(Effect.provide(layer)))

  it.scoped("syntax, validation and variable errors are typed", () =>
    Effect.gen(function*() {
      const gql = GraphQL.make(yield* serve(yoga))
      const syntax = yield* Effect.flip(
        gql.run(GraphQL.operation({ document: `query Broken { project(id: "p_1") { id `, data: Schema.Unknown }))
      )
      expect(syntax._tag === "GraphQLError" && [syntax.reason, syntax.status]).toEqual(["Syntax", 400])
      expect(syntax.message).toContain("Syntax Error")

      const invalid = yield* Effect.flip(
        gql.run(GraphQL.operation({ document: `query Invalid { project(id: "p_1") { owner } }`, data: Schema.Unknown }))
      )
      expect(invalid._tag === "GraphQLError" && invalid.reason).toBe("Validation")
      expect(invalid._tag === "GraphQLError" && invalid.errors[0]!.locations).toEqual([{ line: 1, column: 38 }])
      expect(invalid.message).toContain(`Cannot query field "owner" on type "Project"`)

      const Get = GraphQL.operation({
        document: `query Get($id: ID!) { project(id: $id) { id name } }`,
        data: Schema.Struct({ project: Schema.NullOr(Project) })
      })
      const variables = yield* Effect.flip(gql.run(Get, {}))
      expect(variables._tag === "GraphQLError" && variables.reason).toBe("Validation")
      expect(variables.message).toContain("$id")
    }).pipe(Effect.provide(layer)))

  it.scoped("provider codes become ApiErrors: NOT_FOUND → NotFound, UNAUTHENTICATED → Unauthorized", () =>
    Effect.gen(function*() {
      const gql = GraphQL.make(yield* serve(yoga))
      const Get = GraphQL.operation({
        document: `query Get($id: ID!) { project(id: $id) { id name } }`,
        variables: Schema.Struct({ id: Schema.String }),
        data: Schema.Struct({ project: Schema.NullOr(Project) })
      })
      expect(yield* gql.run(Get, { id: "p_3" })).toEqual({ project: { id: "p_3", name: "Project 3" } })
      const missing = yield* Effect.flip(gql.run(Get, { id: "nope" }))
      expect(missing._tag).toBe("NotFound")
      expect(missing.message).toContain("No project nope")
      const Rename = GraphQL.operation({
        document: `mutation Rename { rename(id: "p_1", name: "x") { id } }`,
        data: Schema.Unknown
      })
      expect(Rename.kind).toBe("mutation")
      expect((yield* Effect.flip(gql.run(Rename)))._tag).toBe("Unauthorized")
    }).pipe(Effect.provide(layer)))

  it.scoped("every page of a connection, each item exactly once", () =>
    Effect.gen(function*() {
      let requests = 0
      const gql = GraphQL.make(
        yield* serve((req, res) => {
          requests++
          return yoga(req, res)
        })
      )
      const List = GraphQL.operation({
        document:
          `query List($first: Int!, $after: String) { projects(first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id name } } } }`,
        variables: Schema.Struct({ first: Schema.Number, after: Schema.optional(Schema.NullOr(Schema.String)) }),
        data: Schema.Struct({
          projects: Schema.Struct({
            pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) }),
            edges: Schema.Array(Schema.Struct({ node: Project }))
          })
        })
      })
      const nodes = Chunk.toReadonlyArray(
        yield* Stream.runCollect(gql.connection(List, { first: 10 }, { connection: (d) => d.projects }))
      )
      expect(nodes.map((n) => n.id)).toEqual(projects.map((p) => p.id))
      expect(new Set(nodes.map((n) => n.id)).size).toBe(95)
      expect(requests).toBe(10)
    }).pipe(Effect.provide(layer)))
})

describe("GraphQL against GitHub's schema (@octokit/graphql-schema, mocked by @graphql-tools/mock)", () => {
  const schema = addMocksToSchema({
    // From the introspection result: the SDL of this release defines two fields twice, which graphql-js refuses.
    schema: buildClientSchema(github.json as unknown as GraphQLJs.IntrospectionQuery),
    mocks: {
      DateTime: () => "2030-01-01T00:00:00Z",
      URI: () => "https://github.com/octocat",
      GitObjectID: () => "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
      HTML: () => "<p>hi</p>",
      Int: () => 7,
      String: () => "text",
      Boolean: () => false,
      RateLimit: () => ({ cost: 1, limit: 5000, remaining: 4999, used: 1, resetAt: "2030-01-01T00:00:00Z" }),
      PageInfo: () => ({ hasNextPage: false, endCursor: "Y3Vyc29y" })
    }
  })
  const server = createYoga({ schema, logging: false })

  it.scoped("real queries decode; the rateLimit report parses as a point quota", () =>
    Effect.gen(function*() {
      const gql = GraphQL.make(yield* serve(server))
      const Viewer = GraphQL.operation({
        document: `query Viewer { viewer { login name createdAt url } rateLimit { cost limit remaining resetAt } }`,
        data: Schema.Struct({
          viewer: Schema.Struct({
            login: Schema.String,
            name: Schema.NullOr(Schema.String),
            createdAt: Schema.String,
            url: Schema.String
          }),
          rateLimit: Schema.Struct({
            cost: Schema.Number,
            limit: Schema.Number,
            remaining: Schema.Number,
            resetAt: Schema.String
          })
        })
      })
      const viewer = yield* gql.run(Viewer)
      expect(viewer.viewer.url).toBe("https://github.com/octocat")
      expect(viewer.rateLimit.remaining).toBe(4999)
      const quota = GraphQLCost.parse({ data: viewer }, Date.parse("2029-12-31T23:00:00Z"))
      expect(quota).toMatchObject({ limit: 5000, remaining: 4999, requested: 1 })
      expect(quota?.reset && quota.reset.toJSON()).toMatchObject({ _id: "Duration", _tag: "Millis", millis: 3_600_000 })

      const Issues = GraphQL.operation({
        document: `
          query Issues($owner: String!, $name: String!, $first: Int!, $after: String) {
            repository(owner: $owner, name: $name) {
              nameWithOwner
              stargazerCount
              issues(first: $first, after: $after, states: OPEN) {
                pageInfo { hasNextPage endCursor }
                nodes { number title author { login } labels(first: 5) { nodes { name color } } }
              }
            }
          }`,
        variables: Schema.Struct({
          owner: Schema.String,
          name: Schema.String,
          first: Schema.Number,
          after: Schema.optional(Schema.NullOr(Schema.String))
        }),
        data: Schema.Struct({
          repository: Schema.NullOr(Schema.Struct({
            nameWithOwner: Schema.String,
            stargazerCount: Schema.Number,
            issues: Schema.Struct({
              pageInfo: Schema.Struct({ hasNextPage: Schema.Boolean, endCursor: Schema.NullOr(Schema.String) }),
              nodes: Schema.Array(Schema.NullOr(Schema.Struct({
                number: Schema.Number,
                title: Schema.String,
                author: Schema.NullOr(Schema.Struct({ login: Schema.String })),
                labels: Schema.NullOr(Schema.Struct({
                  nodes: Schema.NullOr(
                    Schema.Array(Schema.NullOr(Schema.Struct({ name: Schema.String, color: Schema.String })))
                  )
                }))
              })))
            })
          }))
        })
      })
      const issues = yield* Stream.runCollect(
        gql.connection(Issues, { owner: "octocat", name: "hello-world", first: 2 }, {
          connection: (d) => d.repository?.issues
        })
      )
      expect(Chunk.size(issues)).toBe(2)
      expect(Chunk.unsafeHead(issues)).toMatchObject({ number: 7, title: "text" })

      const Invalid = GraphQL.operation({ document: `query Invalid { viewer { password } }`, data: Schema.Unknown })
      const invalid = yield* Effect.flip(gql.run(Invalid))
      expect(invalid._tag === "GraphQLError" && invalid.reason).toBe("Validation")
      expect(invalid.message).toContain(`Cannot query field "password" on type "User"`)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
