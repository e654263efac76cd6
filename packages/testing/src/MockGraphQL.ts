/**
 * GraphQL endpoints for {@link MockHttp}: one route that answers each
 * operation by its name (`operationName`, or the name in the document), with
 * data, errors, or any MockHttp reply (a 429, a delay, a transport error).
 *
 * @since 0.1.0
 * @example
 * import { MockGraphQL, MockHttp } from "@apikit/testing"
 *
 * const http = MockHttp.layer([
 *   MockGraphQL.endpoint("/graphql", {
 *     Viewer: MockGraphQL.data({ viewer: { login: "octocat" } }),
 *     CreateIssue: MockGraphQL.sequence(
 *       MockGraphQL.errors([{ message: "Throttled", extensions: { code: "THROTTLED" } }]),
 *       MockGraphQL.data({ createIssue: { issue: { number: 1 } } })
 *     ),
 *     Search: (req) => MockGraphQL.data({ search: { first: req.variables.first } })
 *   })
 * ])
 */
import * as Effect from "effect/Effect"
import * as MockHttp from "./MockHttp.js"

/**
 * A GraphQL request as an operation handler sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface GraphQLRequest {
  readonly operationName: string | undefined
  readonly query: string
  readonly variables: Readonly<Record<string, any>>
  readonly request: MockHttp.MockRequest
}

/**
 * What an operation answers: a reply, a sequence (one per request, the last
 * repeats), or a function of the request.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationHandler =
  | MockHttp.Reply
  | MockHttp.Sequence
  | ((request: GraphQLRequest) => MockHttp.Reply | Effect.Effect<MockHttp.Reply>)

/**
 * An error as a GraphQL server writes it in `errors[]`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorShape {
  readonly message: string
  readonly path?: ReadonlyArray<string | number>
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>
  readonly extensions?: Readonly<Record<string, unknown>>
  readonly [key: string]: unknown
}

/**
 * A 200 response with `data` (and `extensions`, such as a cost report, when given).
 *
 * @since 0.1.0
 * @category replies
 */
export const data = (
  value: unknown,
  options: { readonly extensions?: unknown; readonly headers?: Readonly<Record<string, string>> } = {}
): MockHttp.Reply =>
  MockHttp.json(
    200,
    options.extensions === undefined ? { data: value } : { data: value, extensions: options.extensions },
    options.headers
  )

/**
 * A response with `errors` (status 200 unless given), with partial `data` when given.
 *
 * @since 0.1.0
 * @category replies
 */
export const errors = (
  list: ReadonlyArray<ErrorShape>,
  options: {
    readonly data?: unknown
    readonly extensions?: unknown
    readonly status?: number
    readonly headers?: Readonly<Record<string, string>>
  } = {}
): MockHttp.Reply =>
  MockHttp.json(options.status ?? 200, {
    errors: list,
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.extensions === undefined ? {} : { extensions: options.extensions })
  }, options.headers)

/**
 * Replies played in order, one per request of the operation; the last repeats.
 *
 * @since 0.1.0
 * @category replies
 */
export const sequence = MockHttp.sequence

const operationName = (body: Record<string, unknown>): string | undefined => {
  if (typeof body["operationName"] === "string" && body["operationName"] !== "") return body["operationName"]
  const query = typeof body["query"] === "string" ? body["query"] : ""
  return /(?:^|[\s}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/.exec(query)?.[1]
}

/**
 * A POST route at `pattern` that dispatches GraphQL requests by operation
 * name. A request for an operation without a handler (or without a name) is
 * a defect listing the handled operations: a mistake in the test. Sequence
 * counters live with the route: make the routes in each test.
 *
 * @since 0.1.0
 * @category routes
 */
export const endpoint = (pattern: string, operations: Readonly<Record<string, OperationHandler>>): MockHttp.Route => {
  const counters = new Map<string, number>()
  return MockHttp.post(pattern, (request) => {
    const body = typeof request.json === "object" && request.json !== null
      ? request.json as Record<string, unknown>
      : {}
    const name = operationName(body)
    const handler = name === undefined ? undefined : operations[name]
    if (name === undefined || handler === undefined) {
      return Effect.dieMessage(
        `MockGraphQL: no handler for operation ${name ?? "(anonymous)"} at ${pattern}. Handled: ${
          Object.keys(operations).join(", ") || "(none)"
        }`
      )
    }
    if (typeof handler === "function") {
      const variables = typeof body["variables"] === "object" && body["variables"] !== null
        ? body["variables"] as Record<string, unknown>
        : {}
      const out = handler({
        operationName: name,
        query: typeof body["query"] === "string" ? body["query"] : "",
        variables,
        request
      })
      return Effect.isEffect(out) ? out : Effect.succeed(out)
    }
    if (handler._tag === "Sequence") {
      const n = counters.get(name) ?? 0
      counters.set(name, n + 1)
      return Effect.succeed(handler.replies[Math.min(n, handler.replies.length - 1)]!)
    }
    return Effect.succeed(handler)
  })
}

/**
 * How many GraphQL requests named `operation` were sent.
 *
 * @since 0.1.0
 * @category accessors
 */
export const count = (operation: string): Effect.Effect<number, never, MockHttp.MockHttp> =>
  Effect.map(
    MockHttp.requests,
    (all) =>
      all.filter((r) =>
        r.method === "POST" && typeof r.json === "object" && r.json !== null &&
        operationName(r.json as Record<string, unknown>) === operation
      ).length
  )
