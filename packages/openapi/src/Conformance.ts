/**
 * Checks traffic against the OpenAPI document: a layer that wraps the
 * `HttpClient` in context (MockHttp, the Sandbox's transport, a real one) and
 * validates every request the client sends (path, query, headers, body) and
 * every response it receives (status and body) against the operation the
 * document declares for it. Violations are recorded, not raised, so a test
 * runs its calls and then asserts `Conformance.violations` is empty.
 *
 * Validation is `openapi-backend`'s (routing by the document's paths, Ajv for
 * the JSON Schemas): an implementation independent of the generator, so a
 * mapping mistake in the generated Schemas shows up here.
 *
 * @since 0.1.0
 * @example
 * import { Conformance, Document } from "@apikit/openapi"
 * import { MockHttp } from "@apikit/testing"
 * import { Effect, Layer } from "effect"
 *
 * const http = Layer.unwrapEffect(
 *   Effect.map(Document.load("openapi.json"), (document) => Conformance.layer(document))
 * ).pipe(Layer.provideMerge(MockHttp.layer([])))
 * const check = Effect.flatMap(Conformance.violations, (found) => Effect.log(found))
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import { OpenAPIBackend } from "openapi-backend"
import * as DocumentModule from "./Document.js"

/**
 * The document to check against (as {@link DocumentModule.load} returns it).
 *
 * @since 0.1.0
 * @category models
 */
export type Document = DocumentModule.Document

/**
 * One mismatch between the traffic and the document.
 *
 * @since 0.1.0
 * @category models
 */
export interface Violation {
  readonly kind: "UnknownOperation" | "Request" | "Response"
  readonly method: string
  /** The path without query (never the query: it may carry credentials). */
  readonly path: string
  readonly operation: string | undefined
  readonly status: number | undefined
  readonly errors: ReadonlyArray<string>
}

/**
 * The recorder of violations.
 *
 * @since 0.1.0
 * @category services
 */
export class Conformance extends Context.Tag("@apikit/openapi/Conformance")<Conformance, {
  readonly violations: Effect.Effect<ReadonlyArray<Violation>>
}>() {}

/**
 * The violations recorded so far.
 *
 * @since 0.1.0
 * @category accessors
 */
export const violations: Effect.Effect<ReadonlyArray<Violation>, never, Conformance> = Effect.flatMap(
  Conformance,
  (c) => c.violations
)

const utf8 = new TextDecoder()

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  if (body._tag === "Uint8Array") return utf8.decode(body.body)
  if (body._tag === "Raw" && typeof body.body === "string") return body.body
  return undefined
}

const parseBody = (text: string | undefined, contentType: string | undefined): unknown => {
  if (text === undefined || text.length === 0) return undefined
  if (contentType?.includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text))
  }
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const messages = (errors: ReadonlyArray<{ instancePath?: string; message?: string }> | null | undefined) =>
  (errors ?? []).map((e) =>
    `${e.instancePath === undefined || e.instancePath === "" ? "/" : e.instancePath} ${e.message ?? ""}`.trim()
  )

/**
 * The document as openapi-backend reads it: `$ref`s that `bundle` pointed into
 * paths (schemas from other files) inlined, as its resolver follows only
 * component references; `nullable` without a `type` (which Ajv refuses) made
 * an `anyOf` with `null`, the reading the generator gives it.
 */
const prepare = (document: Document): unknown => {
  const root = structuredClone(document) as unknown
  const resolve = (ref: string): unknown => {
    let node: any = root
    for (const raw of ref.slice(1).split("/").filter((p) => p.length > 0)) {
      node = node?.[decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~")]
    }
    return node
  }
  const walk = (node: unknown, inlining: ReadonlySet<string>): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, inlining))
    if (node === null || typeof node !== "object") return node
    const record = node as Record<string, unknown>
    const ref = record["$ref"]
    if (typeof ref === "string" && ref.startsWith("#/") && !ref.startsWith("#/components/")) {
      if (inlining.has(ref)) return {}
      return walk(resolve(ref), new Set([...inlining, ref]))
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(record)) {
      if (k === "nullable" && record["type"] === undefined) continue
      out[k] = walk(v, inlining)
    }
    // `nullable` beside `oneOf`/`$ref` and no `type`: what providers mean is "or null", as the generator reads it.
    if (record["nullable"] === true && record["type"] === undefined) return { anyOf: [out, { type: "null" }] }
    return out
  }
  return walk(root, new Set())
}

/**
 * Wraps the `HttpClient` in context with the checks, and provides the recorder.
 * `basePath` is the part of the base URL before the document's paths (e.g. `/v1`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  document: Document,
  options: { readonly basePath?: string | undefined } = {}
): Layer.Layer<HttpClient.HttpClient | Conformance, DocumentModule.DocumentError, HttpClient.HttpClient> =>
  Layer.effectContext(Effect.gen(function*() {
    const inner = yield* HttpClient.HttpClient
    const definition = prepare(document)
    const backend = new OpenAPIBackend({
      definition: definition as any,
      apiRoot: options.basePath ?? "/",
      quick: true,
      validate: true,
      strict: false,
      ajvOpts: { strict: false, validateFormats: false }
    })
    yield* Effect.tryPromise({
      try: () => backend.init(),
      catch: (cause) =>
        new DocumentModule.DocumentError({
          reason: "Unsupported",
          source: document.info?.title ?? "the document",
          detail: `openapi-backend cannot validate against it: ${
            cause instanceof Error ? cause.message : String(cause)
          }`
        })
    })
    const recorded = yield* Ref.make<ReadonlyArray<Violation>>([])
    const record = (v: Violation) => Ref.update(recorded, (all) => [...all, v])

    const client = HttpClient.make((request, url, signal, fiber) =>
      Effect.gen(function*() {
        const headers: Record<string, string> = { ...request.headers }
        const contentType = request.body._tag === "Empty" ? undefined : request.body.contentType
        if (contentType !== undefined) headers["content-type"] = contentType
        const query: Record<string, string | Array<string>> = {}
        for (const [k, v] of url.searchParams) {
          const prior = query[k]
          query[k] = prior === undefined ? v : Array.isArray(prior) ? [...prior, v] : [prior, v]
        }
        const req = {
          method: request.method.toLowerCase(),
          path: url.pathname,
          headers,
          query,
          body: parseBody(bodyText(request), contentType)
        }
        const operation = backend.matchOperation(req)
        const base = { method: request.method, path: url.pathname }
        if (operation === undefined) {
          yield* record({ ...base, kind: "UnknownOperation", operation: undefined, status: undefined, errors: [] })
          return yield* inner.execute(request)
        }
        const checked = backend.validateRequest(req, operation)
        if (!checked.valid) {
          yield* record({
            ...base,
            kind: "Request",
            operation: operation.operationId,
            status: undefined,
            errors: messages(checked.errors as any)
          })
        }
        void signal
        void fiber
        const response = yield* inner.execute(request)
        const bytes = new Uint8Array(yield* response.arrayBuffer)
        const text = utf8.decode(bytes)
        const responseType = response.headers["content-type"]
        if (responseType === undefined || /json/i.test(responseType)) {
          const result = backend.validateResponse(parseBody(text, responseType), operation, response.status)
          if (!result.valid) {
            yield* record({
              ...base,
              kind: "Response",
              operation: operation.operationId,
              status: response.status,
              errors: messages(result.errors as any)
            })
          }
        }
        // The body was read: hand on a response that can be read again.
        return HttpClientResponse.fromWeb(
          request,
          new Response([101, 103, 204, 205, 304].includes(response.status) ? null : bytes, {
            status: response.status,
            headers: response.headers as Record<string, string>
          })
        )
      })
    )
    return Context.make(HttpClient.HttpClient, client).pipe(
      Context.add(Conformance, Conformance.of({ violations: Ref.get(recorded) }))
    )
  }))
