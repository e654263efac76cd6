/**
 * Endpoint mapping: describe a third-party API once with `@effect/platform`'s
 * `HttpApi` / `HttpApiGroup` / `HttpApiEndpoint` (path params, query, headers,
 * payload and success Schemas, declared error bodies by status), and get a
 * typed client whose every call runs through an {@link ApiClient.ApiClient}'s
 * pipeline: auth, rate limit, breaker, retry, timeouts, idempotency keys.
 *
 * The client's failures are the endpoint's declared errors plus
 * {@link ApiError.ApiError}: a non-2xx response whose status the endpoint
 * declares is decoded into the declared error; any other stays an ApiError (as
 * does a declared status whose body does not match, so nothing is lost).
 *
 * Why not `HttpApiClient`: it wants the raw response of every attempt, while
 * the pipeline's retry and breaker need responses classified into ApiErrors at
 * the attempt. Deriving from `HttpApi.reflect` keeps HttpApi as the description
 * language and the pipeline in charge of every call.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient, Endpoints } from "@apikit/http"
 * import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema } from "@effect/platform"
 * import { Effect, Schema } from "effect"
 *
 * class Project extends Schema.Class<Project>("Project")({ id: Schema.String, name: Schema.String }) {}
 * class NameTaken extends Schema.TaggedError<NameTaken>()("NameTaken", { message: Schema.String },
 *   HttpApiSchema.annotations({ status: 409 })) {}
 *
 * const ProjectsApi = HttpApi.make("projects").add(
 *   HttpApiGroup.make("projects")
 *     .add(HttpApiEndpoint.get("get", "/v1/projects/:id")
 *       .setPath(Schema.Struct({ id: Schema.String })).addSuccess(Project))
 *     .add(HttpApiEndpoint.post("create", "/v1/projects")
 *       .setPayload(Schema.Struct({ name: Schema.String })).addSuccess(Project, { status: 201 }).addError(NameTaken))
 * )
 *
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.example.com" })
 *   const client = Endpoints.client(ProjectsApi, api, { endpoints: { "projects.create": { idempotencyKey: true } } })
 *   return yield* client.projects.create({ payload: { name: "Apollo" } }) // Project | NameTaken | ApiError
 * })
 */
import * as HttpApi from "@effect/platform/HttpApi"
import type * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpMethod from "@effect/platform/HttpMethod"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import type * as AST from "effect/SchemaAST"
import type { Simplify } from "effect/Types"
import type * as ApiClient from "./ApiClient.js"
import * as ApiError from "./ApiError.js"
import * as classify from "./internal/classify.js"
import * as Redaction from "./Redaction.js"

/**
 * Per-endpoint settings that differ from the ApiClient's.
 *
 * @since 0.1.0
 * @category options
 */
export interface EndpointOptions {
  readonly timeout?: ApiClient.TimeoutOptions | undefined
  /** Rate-limit units one call of this endpoint consumes. */
  readonly cost?: number | undefined
  /** Send a fresh Idempotency-Key per logical call (reused across retries). */
  readonly idempotencyKey?: boolean | undefined
}

/**
 * The key of an endpoint in `endpoints` overrides: `"group.endpoint"`, or the
 * endpoint's name for top-level groups.
 *
 * @since 0.1.0
 * @category models
 */
export type EndpointKey<Groups extends HttpApiGroup.HttpApiGroup.Any> = Groups extends
  HttpApiGroup.HttpApiGroup<infer Name, infer Endpoints, any, any, infer TopLevel>
  ? Endpoints extends HttpApiEndpoint.HttpApiEndpoint<infer EndpointName, any, any, any, any, any, any, any, any, any>
    ? TopLevel extends true ? EndpointName : `${Name}.${EndpointName}`
  : never
  : never

/**
 * One endpoint as a function of its request.
 *
 * @since 0.1.0
 * @category models
 */
export type Method<Endpoint, GroupError> = [Endpoint] extends [
  HttpApiEndpoint.HttpApiEndpoint<
    infer _Name,
    infer _Method,
    infer _Path,
    infer _UrlParams,
    infer _Payload,
    infer _Headers,
    infer _Success,
    infer _Error,
    infer _R,
    infer _RE
  >
] ? (
    request: Simplify<
      Omit<HttpApiEndpoint.HttpApiEndpoint.ClientRequest<_Path, _UrlParams, _Payload, _Headers, false>, "withResponse">
    >
  ) => Effect.Effect<_Success, _Error | GroupError | ApiError.ApiError>
  : never

type TopLevelMethods<Groups extends HttpApiGroup.HttpApiGroup.Any> =
  Extract<Groups, { readonly topLevel: true }> extends
    HttpApiGroup.HttpApiGroup<infer _Id, infer Endpoints, infer GroupError, infer _R, infer _TopLevel>
    ? Endpoints extends infer Endpoint ? [HttpApiEndpoint.HttpApiEndpoint.Name<Endpoint>, Method<Endpoint, GroupError>]
    : never
    : never

/**
 * The client derived from an HttpApi: one object per group, one method per endpoint
 * (top-level groups' endpoints directly on the client).
 *
 * @since 0.1.0
 * @category models
 */
export type Client<Groups extends HttpApiGroup.HttpApiGroup.Any> = Simplify<
  & {
    readonly [Group in Extract<Groups, { readonly topLevel: false }> as HttpApiGroup.HttpApiGroup.Name<Group>]:
      [Group] extends
        [HttpApiGroup.HttpApiGroup<infer _Name, infer Endpoints, infer GroupError, infer _R, infer _TopLevel>] ? {
          readonly [Endpoint in Endpoints as HttpApiEndpoint.HttpApiEndpoint.Name<Endpoint>]: Method<
            Endpoint,
            GroupError
          >
        }
        : never
  }
  & { readonly [M in TopLevelMethods<Groups> as M[0]]: M[1] }
>

type Codec = (u: unknown) => Either.Either<unknown, ParseResult.ParseIssue>

const encoderOf = (schema: Option.Option<unknown>): Codec | undefined =>
  Option.isSome(schema)
    ? ParseResult.encodeUnknownEither(schema.value as Schema.Schema<unknown, unknown, never>, { errors: "all" })
    : undefined

const decoderOf = (ast: AST.AST): Codec =>
  ParseResult.decodeUnknownEither(Schema.make(ast) as Schema.Schema<unknown, unknown, never>, { errors: "all" })

/** The `_tag` literal of a tagged class or struct, if it has one. */
const tagOf = (ast: AST.AST): string | undefined => {
  try {
    const tag = SchemaAST.getPropertySignatures(ast).find((p) => p.name === "_tag")?.type
    return tag !== undefined && SchemaAST.isLiteral(tag) && typeof tag.literal === "string" ? tag.literal : undefined
  } catch {
    return undefined
  }
}

/**
 * Decodes a declared error body. Third-party APIs do not send `_tag`, so when
 * the body is an object without one, each declared error of that status is
 * tried with its own tag filled in.
 */
const errorDecoderOf = (ast: AST.AST): Codec => {
  const members = SchemaAST.isUnion(ast) ? ast.types : [ast]
  const candidates = members.map((member) => ({ tag: tagOf(member), decode: decoderOf(member) }))
  const whole = decoderOf(ast)
  return (body) => {
    const direct = whole(body)
    if (Either.isRight(direct) || typeof body !== "object" || body === null || Array.isArray(body) || "_tag" in body) {
      return direct
    }
    for (const { decode, tag } of candidates) {
      if (tag === undefined) continue
      const tagged = decode({ ...body, _tag: tag })
      if (Either.isRight(tagged)) return tagged
    }
    return direct
  }
}

const utf8 = new TextDecoder()

/**
 * A form body's fields, nested objects and arrays in the bracket notation most
 * form-encoded APIs read (`metadata[plan]=pro`, `items[0][price]=p_1`).
 */
const formPairs = (value: unknown, prefix: string, out: Array<[string, string]>): Array<[string, string]> => {
  if (value === undefined) return out
  if (value === null) out.push([prefix, ""])
  else if (Array.isArray(value)) value.forEach((v, i) => formPairs(v, `${prefix}[${i}]`, out))
  else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) formPairs(v, prefix === "" ? k : `${prefix}[${k}]`, out)
  } else out.push([prefix, String(value)])
  return out
}

/**
 * A multipart/form-data body from an encoded payload: `Blob`s (and `File`s) as file parts, arrays
 * as repeated fields, objects as JSON parts (the OpenAPI default for an object in a multipart
 * body), anything else as text; `undefined` fields are left out.
 */
const multipartOf = (value: unknown): FormData => {
  const form = new FormData()
  const append = (name: string, v: unknown) => {
    if (v === undefined) return
    if (v instanceof Blob) form.append(name, v)
    else if (v !== null && typeof v === "object") {
      form.append(name, new Blob([JSON.stringify(v)], { type: "application/json" }))
    } else form.append(name, v === null ? "" : String(v))
  }
  if (value !== null && typeof value === "object") {
    for (const [name, v] of Object.entries(value)) {
      if (Array.isArray(v)) v.forEach((item) => append(name, item))
      else append(name, v)
    }
  }
  return form
}

/**
 * Derives a typed client for `api` whose calls run through `client`'s pipeline.
 * `endpoints` overrides timeouts, rate-limit cost or idempotency per endpoint.
 *
 * @since 0.1.0
 * @category constructors
 */
export const client = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, E, R>(
  api: HttpApi.HttpApi<Id, Groups, E, R>,
  client: ApiClient.ApiClient,
  options: {
    readonly endpoints?: { readonly [K in EndpointKey<Groups>]?: EndpointOptions } | undefined
  } = {}
): Client<Groups> => {
  const out: Record<string, any> = {}
  const overrides = (options.endpoints ?? {}) as Record<string, EndpointOptions | undefined>
  HttpApi.reflect(api, {
    onGroup({ group }) {
      if (!group.topLevel) out[group.identifier] = {}
    },
    onEndpoint({ endpoint, errors, group, successes }) {
      const key = group.topLevel ? endpoint.name : `${group.identifier}.${endpoint.name}`
      const settings = overrides[key] ?? {}
      const method = endpoint.method
      const hasBody = HttpMethod.hasBody(method)
      const encodePath = encoderOf(endpoint.pathSchema)
      const encodeQuery = encoderOf(endpoint.urlParamsSchema)
      const encodeHeaders = encoderOf(endpoint.headersSchema)
      const encodePayload = encoderOf(endpoint.payloadSchema)
      const payloadSchema = Option.getOrUndefined(endpoint.payloadSchema) as
        | Schema.Schema<unknown, unknown, never>
        | undefined
      // How the payload goes: `HttpApiSchema.withEncoding` kinds `UrlParams` (form-urlencoded),
      // `Uint8Array` (bytes) and `Text` with their content type, a schema annotated with
      // `HttpApiSchema.AnnotationMultipart` (or `HttpApiSchema.Multipart`) as multipart/form-data,
      // anything else as JSON.
      const encoding = payloadSchema !== undefined && hasBody ? HttpApiSchema.getEncoding(payloadSchema.ast) : undefined
      const multipart = payloadSchema !== undefined && hasBody &&
        HttpApiSchema.getMultipart(payloadSchema.ast) !== undefined
      const rawKind = multipart ? "Multipart" : encoding?.kind === "Json" ? undefined : encoding?.kind
      // One success status is the common case: decode with its Schema inside the client, so a
      // mismatch is a DecodeError that names the URL. Several: decode by the status that came back.
      const successList = Array.from(successes)
      const single = successList.length === 1 ? successList[0]![1].ast : undefined
      // `Schema.Unknown` decodes nothing: the body comes back as JSON, or as text when it is not JSON
      // (an HTML or plain-text answer).
      const successSchema = single !== undefined && Option.isSome(single) && single.value._tag !== "UnknownKeyword"
        ? Schema.make(single.value) as Schema.Schema<unknown, unknown, never>
        : undefined
      const successByStatus = new Map(successList.map(([status, { ast }]) => [status, Option.map(ast, decoderOf)]))
      const errorByStatus = new Map(
        Array.from(errors).flatMap(([status, { ast }]) =>
          Option.isSome(ast) ? [[status, errorDecoderOf(ast.value)]] : []
        )
      )

      const invalid = (reason: ApiError.InvalidRequest["reason"], issue: ParseResult.ParseIssue) =>
        Effect.fail(
          new ApiError.InvalidRequest({
            method,
            url: endpoint.path,
            reason,
            detail: Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(issue))
          })
        )

      const declaredError = (error: ApiError.ApiError) => {
        const status = ApiError.statusOf(error)
        const decode = status === undefined ? undefined : errorByStatus.get(status)
        const raw = classify.rawBodyOf(error)
        if (decode === undefined || raw === undefined) return Effect.fail(error)
        let json: unknown
        try {
          json = raw.length === 0 ? undefined : JSON.parse(utf8.decode(raw))
        } catch {
          return Effect.fail(error)
        }
        const decoded = decode(json)
        // A body that does not match the declared error stays the ApiError it was.
        return Either.isRight(decoded) ? Effect.fail(decoded.right) : Effect.fail(error)
      }

      const call = (request: Record<string, unknown> = {}): Effect.Effect<unknown, unknown> => {
        let params: Record<string, string> | undefined
        if (request["path"] !== undefined) {
          const encoded = encodePath === undefined ? Either.right(request["path"]) : encodePath(request["path"])
          if (Either.isLeft(encoded)) return invalid("InvalidPath", encoded.left)
          params = encoded.right as Record<string, string>
        }
        let query: Record<string, ApiClient.QueryValue> = {}
        if (encodeQuery !== undefined) {
          const encoded = encodeQuery(request["urlParams"] ?? {})
          if (Either.isLeft(encoded)) return invalid("InvalidQuery", encoded.left)
          query = encoded.right as Record<string, ApiClient.QueryValue>
        }
        let headers: Record<string, string> | undefined
        if (encodeHeaders !== undefined) {
          const encoded = encodeHeaders(request["headers"] ?? {})
          if (Either.isLeft(encoded)) return invalid("InvalidHeaders", encoded.left)
          headers = encoded.right as Record<string, string>
        }
        if (!hasBody && encodePayload !== undefined) {
          // GET-like endpoints carry their payload in the query string.
          const encoded = encodePayload(request["payload"])
          if (Either.isLeft(encoded)) return invalid("InvalidQuery", encoded.left)
          query = { ...query, ...(encoded.right as Record<string, ApiClient.QueryValue>) }
        }
        let form: HttpBody.HttpBody | undefined
        if (rawKind !== undefined && encodePayload !== undefined) {
          // A FormData made by the caller (`HttpApiSchema.Multipart` payloads are typed as one) goes as it is.
          const payload = request["payload"]
          const encoded = multipart && payload instanceof FormData ? Either.right(payload) : encodePayload(payload)
          if (Either.isLeft(encoded)) return invalid("InvalidBody", encoded.left)
          const value = encoded.right
          const contentType = encoding?.contentType
          form = rawKind === "Multipart"
            ? HttpBody.formData(value instanceof FormData ? value : multipartOf(value))
            : rawKind === "Uint8Array" && value instanceof Uint8Array
            ? HttpBody.uint8Array(value, contentType)
            : rawKind === "Text" && typeof value === "string"
            ? HttpBody.text(value, contentType)
            : rawKind === "UrlParams"
            ? HttpBody.text(
              new URLSearchParams(formPairs(value, "", [])).toString(),
              "application/x-www-form-urlencoded"
            )
            : undefined // an encoding whose value is not of its kind: sent as JSON
        }
        const exchange = client.exchange(method, endpoint.path, {
          params,
          query,
          headers,
          ...(form !== undefined
            ? { rawBody: form }
            : hasBody && payloadSchema !== undefined
            ? { body: request["payload"], bodySchema: payloadSchema }
            : {}),
          success: successSchema,
          timeout: settings.timeout,
          cost: settings.cost,
          idempotencyKey: settings.idempotencyKey === true ? true : undefined
        })
        return Effect.matchEffect(exchange, {
          onFailure: declaredError,
          onSuccess: ({ status, value }) => {
            if (successSchema !== undefined) return Effect.succeed(value)
            const decode = successByStatus.get(status)
            if (decode === undefined || Option.isNone(decode)) return Effect.void
            const decoded = decode.value(value)
            return Either.isRight(decoded) ? Effect.succeed(decoded.right) : Effect.fail(
              new ApiError.DecodeError({
                method,
                url: endpoint.path,
                status,
                reason: "SchemaMismatch",
                detail: Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(decoded.left))
              })
            )
          }
        })
      }
      ;(group.topLevel ? out : out[group.identifier])[endpoint.name] = call
    }
  })
  return out as Client<Groups>
}
