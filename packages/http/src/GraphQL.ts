/**
 * GraphQL operations over an {@link ApiClient.ApiClient}: every operation is a
 * POST through the same pipeline as REST calls (auth, limiter, breaker, retry,
 * timeouts, spans, redaction), typed by Effect Schemas for its variables and
 * data, with failures in the error channel.
 *
 * - `errors[]` in a 200 response fails with a {@link GraphQLError} (each
 *   error's message, path, locations and code), or with the {@link ApiError}
 *   the provider's code means: `THROTTLED`/`RATE_LIMITED` → `RateLimited` (with
 *   the wait, so retry and an adaptive limiter wait it out), `UNAUTHENTICATED` →
 *   `Unauthorized` (so the auth policy refreshes and replays), `FORBIDDEN` →
 *   `Forbidden`, `NOT_FOUND` → `NotFound`. One `catchTags` serves REST and GraphQL.
 * - Partial data is returned only when asked for ({@link GraphQLClient.partial}).
 * - Queries are retried like GETs; mutations only with an idempotency key or `retry: true`.
 * - Cost reports in the body (GitHub's `rateLimit`, Shopify's `extensions.cost`)
 *   reach an adaptive limiter as a server pause when the budget cannot pay
 *   for the query again (see {@link GraphQLCost}).
 * - Relay connections stream lazily with the cursor in the variables.
 *
 * No GraphQL runtime is needed: documents are strings (or GraphQL Code
 * Generator's `TypedDocumentString`), and the server is the judge of syntax.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient, GraphQL } from "@apikit/http"
 * import { Effect, Schema } from "effect"
 *
 * const Viewer = GraphQL.operation({
 *   document: `query Viewer { viewer { login } }`,
 *   data: Schema.Struct({ viewer: Schema.Struct({ login: Schema.String }) })
 * })
 *
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.github.com" })
 *   const github = GraphQL.make(api)
 *   const { viewer } = yield* github.run(Viewer)
 *   return viewer.login
 * })
 */
import * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as ApiClient from "./ApiClient.js"
import * as ApiError from "./ApiError.js"
import * as GraphQLCost from "./GraphQLCost.js"
import * as classify from "./internal/classify.js"
import * as internal from "./internal/graphql.js"
import { paginate } from "./internal/paginate.js"
import { PaginationError } from "./Paginate.js"
import type * as Policy from "./Policy.js"
import * as RateLimitHeaders from "./RateLimitHeaders.js"
import * as Redaction from "./Redaction.js"

/**
 * One error of a GraphQL response: its message (masked), the response path
 * of the field that failed, the document locations, and the provider's code
 * (`extensions.code`, or GitHub's `type`).
 *
 * @since 0.1.0
 * @category models
 */
export class GraphQLErrorItem extends Schema.Class<GraphQLErrorItem>("@apikit/http/GraphQLErrorItem")({
  message: Schema.String,
  path: Schema.optional(Schema.Array(Schema.Union(Schema.String, Schema.Number))),
  locations: Schema.optional(Schema.Array(Schema.Struct({ line: Schema.Number, column: Schema.Number }))),
  code: Schema.optional(Schema.String)
}) {}

const describeItem = (e: GraphQLErrorItem) =>
  `${e.message}${e.path === undefined || e.path.length === 0 ? "" : ` (at ${e.path.join(".")})`}${
    e.code === undefined ? "" : ` [${e.code}]`
  }`

/**
 * A GraphQL operation failed with errors the server reported in `errors[]`:
 *
 * - `Syntax`: the document does not parse;
 * - `Validation`: it is not valid for the server's schema, or its variables
 *   are wrong; nothing ran;
 * - `Execution`: it ran and resolvers failed. `partialData` tells whether the
 *   server returned data beside the errors ({@link GraphQLClient.partial} reads it).
 *
 * Errors whose code means an {@link ApiError} (throttled, unauthenticated,
 * forbidden, not found) fail with that error instead.
 *
 * @since 0.1.0
 * @category errors
 */
export class GraphQLError extends Schema.TaggedError<GraphQLError>()("GraphQLError", {
  method: Schema.String,
  url: Schema.String,
  status: Schema.Number,
  requestId: Schema.optional(Schema.String),
  /** The operation's name, when it has one. */
  operation: Schema.optional(Schema.String),
  reason: Schema.Literal("Syntax", "Validation", "Execution"),
  errors: Schema.Array(GraphQLErrorItem),
  partialData: Schema.Boolean
}) {
  override get message() {
    const shown = this.errors.slice(0, 5).map(describeItem).join("; ")
    const more = this.errors.length > 5 ? ` and ${this.errors.length - 5} more` : ""
    const rid = this.requestId === undefined ? "" : ` (request id ${this.requestId})`
    const hint = this.reason === "Syntax"
      ? "the document does not parse; fix it"
      : this.reason === "Validation"
      ? "the document or its variables do not match the server's schema; nothing ran"
      : this.partialData
      ? "partial data was returned; read it with `partial` if it is useful"
      : "the operation ran and failed"
    return `GraphQL ${this.operation ?? "operation"} (${this.method} ${this.url}) failed with ${this.errors.length} ${
      this.errors.length === 1 ? "error" : "errors"
    }${rid}: ${shown}${more}. ${this.reason}: ${hint}.`
  }
}

/**
 * The type decoration of GraphQL Code Generator's typed documents
 * (`TypedDocumentString` with `documentMode: "string"`): the result and
 * variables types, carried by the document itself.
 *
 * @since 0.1.0
 * @category models
 */
export interface DocumentTypeDecoration<Result, Variables> {
  readonly __apiType?: ((variables: Variables) => Result) | undefined
}

/**
 * An operation: its document, name and kind, and the Schemas of its data and variables.
 *
 * @since 0.1.0
 * @category models
 */
export interface Operation<Data, Variables> {
  readonly _tag: "GraphQLOperation"
  readonly document: string
  /** The operation name (sent as `operationName`), when the document names one. */
  readonly name: string | undefined
  /** From the document; `undefined` when it could not be read (the operation is then never retried). */
  readonly kind: "query" | "mutation" | "subscription" | undefined
  readonly data: Schema.Schema<Data, any, never> | undefined
  readonly variables: Schema.Schema<Variables, any, never> | undefined
  /** Rate-limit units each run consumes (default 1), for limiters that count points. */
  readonly cost: number | undefined
  /** Why the operation cannot be sent, when it cannot. */
  readonly problem: string | undefined
}

/**
 * Variables when an operation has no variables Schema: sent as given.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyVariables = Readonly<Record<string, unknown>> | undefined

/**
 * Makes an operation. The name and kind are read from the document (the
 * first operation, or the one called `name`); apikit does not parse GraphQL
 * further: the server judges the syntax and answers with a typed error.
 *
 * With a `data` Schema the response data is decoded with it. With a typed
 * document from GraphQL Code Generator and no Schema, the types come from the
 * document and the data is not checked.
 *
 * @since 0.1.0
 * @category constructors
 */
export const operation: {
  <Data, DataI, Variables = AnyVariables, VariablesI = Variables>(options: {
    readonly document: string | (DocumentTypeDecoration<unknown, unknown> & { toString(): string })
    readonly data: Schema.Schema<Data, DataI, never>
    readonly variables?: Schema.Schema<Variables, VariablesI, never> | undefined
    readonly name?: string | undefined
    readonly cost?: number | undefined
  }): Operation<Data, Variables>
  <Data, Variables>(options: {
    readonly document: DocumentTypeDecoration<Data, Variables> & { toString(): string }
    readonly name?: string | undefined
    readonly cost?: number | undefined
  }): Operation<Data, Variables>
} = (options: {
  readonly document: unknown
  readonly data?: Schema.Schema<any, any, never> | undefined
  readonly variables?: Schema.Schema<any, any, never> | undefined
  readonly name?: string | undefined
  readonly cost?: number | undefined
}): Operation<any, any> => {
  const raw = options.document
  const document = typeof raw === "string"
    ? raw
    : raw instanceof String
    ? raw.toString()
    : typeof raw === "object" && raw !== null && (raw as { kind?: unknown }).kind === "Document"
    ? documentNodeText(raw)
    : undefined
  const ops = document === undefined ? [] : internal.operations(document)
  const chosen = options.name === undefined ? ops[0] : ops.find((o) => o.name === options.name)
  const problem = document === undefined
    ? "the document is a GraphQL AST without its source text; generate documents with documentMode: \"string\" (TypedDocumentString) or pass the text"
    : options.name !== undefined && chosen === undefined
    ? `the document defines no operation named "${options.name}"`
    : options.name === undefined && ops.filter((o) => o.kind !== undefined).length > 1
    ? "the document defines several operations; pass `name` to choose one"
    : undefined
  return {
    _tag: "GraphQLOperation",
    document: document ?? "",
    name: options.name ?? chosen?.name,
    kind: chosen?.kind,
    data: options.data,
    variables: options.variables,
    cost: options.cost,
    problem
  }
}

const documentNodeText = (node: object): string | undefined => {
  const loc = (node as { loc?: { source?: { body?: unknown } } }).loc
  return typeof loc?.source?.body === "string" ? loc.source.body : undefined
}

/**
 * How a GraphQL client is made.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The endpoint's path on the ApiClient's base URL (default `/graphql`). */
  readonly path?: string | undefined
  /** Headers sent with every operation. */
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
}

/**
 * The options of one run.
 *
 * @since 0.1.0
 * @category options
 */
export interface RunOptions {
  readonly headers?: Readonly<Record<string, string | Redacted.Redacted<string>>> | undefined
  readonly timeout?: ApiClient.TimeoutOptions | undefined
  /** Sent as `Idempotency-Key`: a mutation with one is retried (the server must honour it). */
  readonly idempotencyKey?: true | string | undefined
  /** A mutation that is safe to repeat: retry it like a query. */
  readonly retry?: boolean | undefined
  /** Rate-limit units this run consumes (default: the operation's `cost`, else 1). */
  readonly cost?: number | undefined
}

/**
 * Data with the errors that came beside it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result<Data> {
  readonly data: Data
  readonly errors: ReadonlyArray<GraphQLErrorItem>
}

/**
 * A Relay connection as a selector returns it. `edges[].node` or `nodes`
 * (either); null entries are skipped.
 *
 * @since 0.1.0
 * @category models
 */
export interface Connection<Node> {
  readonly pageInfo: {
    readonly hasNextPage: boolean
    readonly endCursor?: string | null | undefined
  }
  readonly edges?: ReadonlyArray<{ readonly node: Node | null } | null> | null | undefined
  readonly nodes?: ReadonlyArray<Node | null> | null | undefined
}

/**
 * How a connection is walked.
 *
 * @since 0.1.0
 * @category options
 */
export interface ConnectionOptions<Data, Node> {
  /** The connection in a page's data; null or undefined ends the stream. */
  readonly connection: (data: Data) => Connection<Node> | null | undefined
  /** The variable that carries the cursor (default `after`). */
  readonly cursorVariable?: string | undefined
  /** Fail with PaginationError after this many pages when there are more (default 1,000). */
  readonly maxPages?: number | undefined
  readonly run?: RunOptions | undefined
}

/**
 * The arguments after the operation: variables (optional when the operation
 * accepts `undefined`), then run options.
 *
 * @since 0.1.0
 * @category models
 */
export type Args<Variables> = undefined extends Variables ? [variables?: Variables, options?: RunOptions]
  : [variables: Variables, options?: RunOptions]

/**
 * A GraphQL endpoint of one API.
 *
 * @since 0.1.0
 * @category models
 */
export interface GraphQLClient {
  /** Runs an operation: its data, or a typed failure when the response has errors. */
  readonly run: <Data, Variables>(
    operation: Operation<Data, Variables>,
    ...args: Args<Variables>
  ) => Effect.Effect<Data, ApiError.ApiError | GraphQLError>
  /**
   * Runs an operation and returns its data with the errors beside it, when the
   * data (with its nulls) still matches the data Schema; otherwise fails as `run` does.
   */
  readonly partial: <Data, Variables>(
    operation: Operation<Data, Variables>,
    ...args: Args<Variables>
  ) => Effect.Effect<Result<Data>, ApiError.ApiError | GraphQLError>
  /**
   * Every node of a Relay connection as a lazy Stream: a page is fetched when
   * pulled, with the last page's `endCursor` in the cursor variable. A page
   * that repeats a cursor is not emitted (PaginationError `NotAdvancing`).
   */
  readonly connection: <Data, Variables extends Readonly<Record<string, unknown>> | undefined, Node>(
    operation: Operation<Data, Variables>,
    variables: Variables,
    options: ConnectionOptions<Data, Node>
  ) => Stream.Stream<Node, ApiError.ApiError | GraphQLError | PaginationError>
}

const accept = "application/graphql-response+json, application/json;q=0.9"

interface ResponseFields {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly requestId?: string
  readonly body?: string
}

const fieldsOf = (
  method: string,
  url: string,
  status: number,
  headers: Headers.Headers,
  body: Uint8Array | string | undefined
): ResponseFields => {
  const id = classify.requestId(headers)
  return {
    method,
    url,
    status,
    ...(id === undefined ? {} : { requestId: id }),
    ...(body === undefined || body.length === 0 ? {} : { body: Redaction.excerpt(body) })
  }
}

const items = (errors: ReadonlyArray<internal.ErrorItem>) => errors.map((e) => new GraphQLErrorItem(e))

/** The ApiError that Forbidden/NotFound (and, outside the pipeline, the other) codes mean. */
const meant = (
  meaning: NonNullable<ReturnType<typeof internal.meaning>>,
  fields: ResponseFields,
  headers: Headers.Headers,
  json: unknown,
  now: number
): ApiError.ApiError => {
  switch (meaning) {
    case "Forbidden":
      return new ApiError.Forbidden(fields)
    case "NotFound":
      return new ApiError.NotFound(fields)
    case "Unauthorized": {
      const challenge = headers["www-authenticate"]
      return new ApiError.Unauthorized({
        ...fields,
        ...(challenge === undefined ? {} : { wwwAuthenticate: Redaction.text(challenge).slice(0, 500) })
      })
    }
    case "RateLimited": {
      const quota = GraphQLCost.parse(json, now)
      const info = quota === undefined ? RateLimitHeaders.parse(headers, now) : GraphQLCost.toRateLimitInfo(quota)
      const wait = quota !== undefined
        ? GraphQLCost.waitFor(quota, quota.requested ?? 1)
        : info?.remaining === 0
        ? info.reset
        : undefined
      return new ApiError.RateLimited({
        ...fields,
        reason: "TooManyRequests",
        ...(wait === undefined || Duration.isZero(wait) ? {} : { retryAfter: wait }),
        ...(info === undefined ? {} : { rateLimit: info })
      })
    }
  }
}

/**
 * Checks each attempt's response inside the pipeline: throttling and
 * authentication errors become the ApiErrors the policies act on, and a cost
 * report becomes the response's `rateLimit`, which an adaptive limiter learns
 * from as from headers. With `points` (the call declared its cost, so the
 * limiter counts points) the whole quota is reported; otherwise (the limiter
 * counts calls) only a budget that cannot pay for the query again, as nothing
 * left until the wait, so callers wait instead of being throttled.
 */
const inspectWith = (points: boolean): ApiClient.Inspect => (response, context) => {
  const json = internal.parseJson(response.body)
  const env = internal.envelope(json)
  if (env === undefined) return Effect.succeed(response)
  return Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
    const fields = () => fieldsOf(context.method, context.url, response.status, response.headers, response.body)
    if (env.errors.some((e) => internal.meaning(e.code) === "RateLimited")) {
      return Effect.fail(meant("RateLimited", fields(), response.headers, json, now))
    }
    if (internal.commonMeaning(env.errors) === "Unauthorized") {
      return Effect.fail(meant("Unauthorized", fields(), response.headers, json, now))
    }
    const quota = GraphQLCost.parse(json, now)
    if (quota === undefined) return Effect.succeed(response)
    const wait = GraphQLCost.waitFor(quota, quota.requested ?? quota.actual ?? 1)
    const exhausted = wait !== undefined && !Duration.isZero(wait)
    if (!exhausted && !points) return Effect.succeed(response)
    // Counting calls, the limiter must not take the budget in points for a number of calls: it
    // hears only that nothing is left until the wait.
    const info = points ? GraphQLCost.toRateLimitInfo(quota) : new ApiError.RateLimitInfo({ policy: "graphql-points" })
    const rateLimit = exhausted ? new ApiError.RateLimitInfo({ ...info, remaining: 0, reset: wait }) : info
    return Effect.succeed({ status: response.status, headers: response.headers, body: response.body, rateLimit })
  })
}

// Composed once each: the pipeline keeps one composition per check function.
const inspectCalls = inspectWith(false)
const inspectPoints = inspectWith(true)

const decodeWith = (schema: Schema.Schema<any, any, never>) =>
  ParseResult.decodeUnknownEither(schema, { errors: "all" })
const encodeWith = (schema: Schema.Schema<any, any, never>) =>
  ParseResult.encodeUnknownEither(schema, { errors: "all" })

/**
 * A GraphQL client over an ApiClient. The endpoint is `path` on the
 * ApiClient's base URL (default `/graphql`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (api: ApiClient.ApiClient, options: Options = {}): GraphQLClient => {
  const path = options.path ?? "/graphql"
  const url = (() => {
    try {
      return Redaction.url(new URL(`${api.baseUrl.pathname.replace(/\/+$/, "")}${path}`, api.baseUrl))
    } catch {
      return Redaction.excerpt(path, 200)
    }
  })()
  const invalid = (detail: string) =>
    new ApiError.InvalidRequest({ method: "POST", url, reason: "InvalidBody", detail })

  const send = <Data, Variables>(
    op: Operation<Data, Variables>,
    variables: Variables | undefined,
    run: RunOptions | undefined,
    mode: "run" | "partial"
  ): Effect.Effect<Result<Data>, ApiError.ApiError | GraphQLError> => {
    if (op.problem !== undefined) return Effect.fail(invalid(op.problem))
    let encoded: unknown = variables
    if (op.variables !== undefined) {
      const result = encodeWith(op.variables)(variables)
      if (Either.isLeft(result)) {
        return Effect.fail(
          invalid(
            `the variables of ${op.name ?? "the operation"} do not match their Schema: ${
              Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(result.left))
            }`
          )
        )
      }
      encoded = result.right
    }
    const body = {
      query: op.document,
      ...(encoded === undefined ? {} : { variables: encoded }),
      ...(op.name === undefined ? {} : { operationName: op.name })
    }
    const headers = { accept, ...options.headers, ...run?.headers }
    const cost = run?.cost ?? op.cost
    const exchange = api.exchange("POST", path, {
      body,
      headers,
      inspect: cost === undefined ? inspectCalls : inspectPoints,
      idempotent: op.kind === "query" || run?.retry === true,
      ...(run?.idempotencyKey === undefined ? {} : { idempotencyKey: run.idempotencyKey }),
      ...(run?.timeout === undefined ? {} : { timeout: run.timeout }),
      ...(cost === undefined ? {} : { cost })
    })
    const failed = (
      env: internal.Envelope,
      json: unknown,
      status: number,
      responseHeaders: Headers.Headers,
      raw: Uint8Array | string | undefined
    ) =>
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<never, ApiError.ApiError | GraphQLError> => {
        const fields = fieldsOf("POST", url, status, responseHeaders, raw)
        const meaning = internal.commonMeaning(env.errors)
        if (meaning !== undefined) return Effect.fail(meant(meaning, fields, responseHeaders, json, now))
        return Effect.fail(
          new GraphQLError({
            method: "POST",
            url,
            status,
            ...(fields.requestId === undefined ? {} : { requestId: fields.requestId }),
            ...(op.name === undefined ? {} : { operation: op.name }),
            reason: internal.reasonOf(env, status),
            errors: items(env.errors),
            partialData: env.data !== null && env.data !== undefined
          })
        )
      })
    const decodeFailure = (status: number, responseHeaders: Headers.Headers, detail: string, raw: unknown) =>
      new ApiError.DecodeError({
        ...fieldsOf("POST", url, status, responseHeaders, typeof raw === "string" ? raw : JSON.stringify(raw)),
        reason: "SchemaMismatch",
        detail: Redaction.excerpt(detail)
      })
    return Effect.flatMap(
      Effect.catchTag(exchange, "BadRequest", (error) => {
        // GraphQL-over-HTTP servers answer request errors (syntax, validation, variables) with 400.
        const raw = classify.rawBodyOf(error)
        const json = raw === undefined ? undefined : internal.parseJson(raw)
        const env = internal.envelope(json)
        return env === undefined || env.errors.length === 0
          ? Effect.fail(error)
          : failed(
            env,
            json,
            error.status,
            Headers.fromInput(error.requestId === undefined ? {} : { "x-request-id": error.requestId }),
            raw
          )
      }),
      (exchange): Effect.Effect<Result<Data>, ApiError.ApiError | GraphQLError> => {
        const { headers: responseHeaders, status, value } = exchange
        const env = internal.envelope(value)
        if (env === undefined) {
          return Effect.fail(
            typeof value === "string"
              ? new ApiError.DecodeError({
                ...fieldsOf("POST", url, status, responseHeaders, value),
                reason: "InvalidJson",
                detail: "the body is not JSON"
              })
              : decodeFailure(status, responseHeaders, "the body is not a GraphQL response (no data, no errors)", value)
          )
        }
        const hasErrors = env.errors.length > 0
        if (hasErrors && (mode === "run" || env.data === null || env.data === undefined)) {
          return failed(env, value, status, responseHeaders, JSON.stringify(value))
        }
        if (op.data === undefined) return Effect.succeed({ data: env.data as Data, errors: items(env.errors) })
        const decoded = decodeWith(op.data)(env.data)
        if (Either.isRight(decoded)) return Effect.succeed({ data: decoded.right as Data, errors: items(env.errors) })
        // With errors, the nulls they left are why the data does not match: the errors are the failure.
        return hasErrors
          ? failed(env, value, status, responseHeaders, JSON.stringify(value))
          : Effect.fail(
            decodeFailure(
              status,
              responseHeaders,
              ParseResult.TreeFormatter.formatIssueSync(decoded.left),
              value
            )
          )
      }
    )
  }

  const client: GraphQLClient = {
    run: (op, ...args) => Effect.map(send(op, args[0], args[1], "run"), (r) => r.data),
    partial: (op, ...args) => send(op, args[0], args[1], "partial"),
    connection: (op, variables, connection) => {
      const cursorVariable = connection.cursorVariable ?? "after"
      const route = op.name ?? path
      return paginate({
        initial: Option.none<string>(),
        key: (c) => Option.getOrElse(c, () => ""),
        maxPages: connection.maxPages ?? 1000,
        guard: (reason, pages) => new PaginationError({ reason, route, pages }),
        items: (page: Connection<unknown> | null | undefined) => nodesOf(page),
        step: (cursor) => {
          const vars = { ...variables, [cursorVariable]: Option.getOrNull(cursor) } as typeof variables
          if (op.variables !== undefined && Option.isSome(cursor)) {
            const encoded = encodeWith(op.variables)(vars)
            if (Either.isRight(encoded) && (encoded.right as Record<string, unknown>)[cursorVariable] === undefined) {
              return Effect.fail(
                invalid(
                  `the variables Schema of ${route} drops "${cursorVariable}": add it (Schema.optional(Schema.NullOr(Schema.String))) or set cursorVariable`
                )
              )
            }
          }
          return Effect.flatMap(send(op, vars, connection.run, "run"), ({ data }) => {
            const page = connection.connection(data)
            const end = page?.pageInfo.endCursor
            if (page?.pageInfo.hasNextPage === true && (end === null || end === undefined || end === "")) {
              return Effect.fail(new PaginationError({ reason: "NotAdvancing", route, pages: 0 }))
            }
            return Effect.succeed({
              page,
              next: page?.pageInfo.hasNextPage === true
                ? Option.some(Option.some(end!))
                : Option.none<Option.Option<string>>()
            })
          })
        }
      }) as Stream.Stream<any, ApiError.ApiError | GraphQLError | PaginationError>
    }
  }
  return client
}

const nodesOf = <Node>(page: Connection<Node> | null | undefined): ReadonlyArray<Node> => {
  if (page === null || page === undefined) return []
  const out: Array<Node> = []
  if (page.nodes !== null && page.nodes !== undefined) {
    for (const n of page.nodes) if (n !== null && n !== undefined) out.push(n)
  } else if (page.edges !== null && page.edges !== undefined) {
    for (const e of page.edges) if (e?.node !== null && e?.node !== undefined) out.push(e.node)
  }
  return out
}
