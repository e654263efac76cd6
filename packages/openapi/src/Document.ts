/**
 * Reading an OpenAPI document: a file path or URL (JSON or YAML), OpenAPI 3.0
 * and 3.1 as they are, Swagger 2.0 converted to OpenAPI 3.0 by
 * `swagger2openapi`, an optional JSON Patch (RFC 6902) applied for fixes, and
 * every `$ref` to another file or URL brought into the one document by
 * `@apidevtools/swagger-parser`'s `bundle` (references inside the document are
 * kept, so components keep their names). Before the patch, OpenAPI Overlays
 * (Overlay 1.0: actions with a JSONPath `target` and an `update` or `remove`)
 * are applied in order, their targets evaluated by `jsonpath-rfc9535`.
 *
 * Why swagger-parser: it is the most used OpenAPI reader on npm, reads 2.0,
 * 3.0 and 3.1, resolves `$ref`s across files and URLs through
 * `json-schema-ref-parser`, and its `bundle` keeps internal references (the
 * generator needs them to name Schemas and to cut recursion), which the
 * dereferencing readers do not.
 *
 * @since 0.1.0
 */
import { parse as parseFile } from "@apidevtools/json-schema-ref-parser"
import SwaggerParser from "@apidevtools/swagger-parser"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import jsonPatch from "fast-json-patch"
import swagger2openapi from "swagger2openapi"
import * as overlays from "./internal/overlay.js"

/**
 * An OpenAPI 3.x document as plain JSON.
 *
 * @since 0.1.0
 * @category models
 */
export interface Document {
  readonly openapi: string
  readonly info?: { readonly title?: string; readonly version?: string } | undefined
  readonly servers?: ReadonlyArray<{ readonly url: string }> | undefined
  readonly paths?: Readonly<Record<string, any>> | undefined
  readonly components?: Readonly<Record<string, any>> | undefined
  readonly webhooks?: Readonly<Record<string, any>> | undefined
  readonly [key: string]: unknown
}

/**
 * One operation of a JSON Patch (RFC 6902).
 *
 * @since 0.1.0
 * @category models
 */
export interface PatchOperation {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test"
  readonly path: string
  readonly value?: unknown
  readonly from?: string | undefined
}

/**
 * An OpenAPI Overlay (Overlay Specification 1.0.x): `actions` applied in order, each selecting
 * nodes with a JSONPath `target` (RFC 9535) and either merging `update` into them (objects are
 * merged recursively, other values replaced; an array target gets `update` appended) or removing
 * them (`remove: true`). A target that selects nothing changes nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface Overlay {
  readonly overlay: string
  readonly info?: { readonly title?: string; readonly version?: string } | undefined
  readonly extends?: string | undefined
  readonly actions: ReadonlyArray<{
    readonly target: string
    readonly description?: string | undefined
    readonly update?: unknown
    readonly remove?: boolean | undefined
  }>
}

/**
 * The document could not be read: `Unreadable` (no such file, a URL that did
 * not answer, neither JSON nor YAML), `Unsupported` (not OpenAPI 3.x or Swagger
 * 2.0), `Conversion` (Swagger 2.0 that swagger2openapi refused), `Overlay`
 * (an overlay that cannot be read or applied: `source` names the overlay),
 * `Patch` (the patch does not apply) or `Reference` (a `$ref` that does not
 * resolve).
 *
 * @since 0.1.0
 * @category errors
 */
export class DocumentError extends Schema.TaggedError<DocumentError>()("DocumentError", {
  reason: Schema.Literal("Unreadable", "Unsupported", "Conversion", "Overlay", "Patch", "Reference"),
  source: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    const hint = this.reason === "Patch"
      ? "fix the patch (each path must exist in the document)"
      : this.reason === "Overlay"
      ? "fix the overlay (Overlay 1.0: `overlay: 1.0.0` and actions with a JSONPath `target` and `update` or `remove: true`)"
      : this.reason === "Reference"
      ? "fix the $ref or supply the referenced file"
      : this.reason === "Unsupported"
      ? "apikit reads OpenAPI 3.0, 3.1 and Swagger 2.0"
      : "check the path or URL"
    return `Cannot read the OpenAPI document ${this.source} (${this.reason}): ${this.detail}; ${hint}`
  }
}

/**
 * Options of {@link load}.
 *
 * @since 0.1.0
 * @category options
 */
export interface LoadOptions {
  /**
   * OpenAPI Overlays applied in order after conversion, before the patch: each an {@link Overlay}
   * or the path or URL of one (JSON or YAML).
   */
  readonly overlays?: ReadonlyArray<Overlay | string> | undefined
  /** A JSON Patch applied after conversion and the overlays, before `$ref`s are resolved: fixes for a provider's document. */
  readonly patch?: ReadonlyArray<PatchOperation> | undefined
  /**
   * Allow the document, and `$ref`s in it, on loopback and private addresses (a local server
   * such as the Sandbox). Off by default: a document's `$ref`s must not make this process
   * fetch internal URLs.
   */
  readonly allowInternalUrls?: boolean | undefined
}

const detailOf = (cause: unknown): string =>
  (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!.slice(0, 500)

/**
 * Reads, converts, patches and bundles a document from a path or URL (or an
 * object already in memory, with `source` naming it and resolving relative
 * `$ref`s).
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (
  source: string,
  options: LoadOptions & { readonly document?: unknown } = {}
): Effect.Effect<Document, DocumentError> =>
  Effect.gen(function*() {
    const http = { http: { safeUrlResolver: options.allowInternalUrls !== true } }
    const fail = (reason: DocumentError["reason"], cause: unknown) =>
      new DocumentError({ reason, source, detail: detailOf(cause) })
    const raw = options.document !== undefined
      ? structuredClone(options.document) as Record<string, unknown>
      : yield* Effect.tryPromise({
        // `parse` reads a file or URL, JSON or YAML, without resolving anything yet.
        try: () =>
          (SwaggerParser as any).parse(source, { resolve: http }) as Promise<unknown> as Promise<
            Record<string, unknown>
          >,
        catch: (cause) => fail("Unreadable", cause)
      })
    let document: Record<string, unknown> = raw
    if (typeof raw["swagger"] === "string") {
      if (!raw["swagger"].startsWith("2.")) return yield* fail("Unsupported", `swagger ${raw["swagger"]}`)
      const converted = yield* Effect.tryPromise({
        try: () => swagger2openapi.convertObj(raw as any, { patch: true, warnOnly: true }),
        catch: (cause) => fail("Conversion", cause)
      })
      document = converted.openapi as unknown as Record<string, unknown>
    } else if (typeof raw["openapi"] !== "string" || !/^3\.[01]\./.test(raw["openapi"])) {
      return yield* fail("Unsupported", `openapi ${String(raw["openapi"] ?? "(missing)")}`)
    }
    for (const [i, overlay] of (options.overlays ?? []).entries()) {
      const name = typeof overlay === "string" ? overlay : `overlay ${i + 1}`
      const failOverlay = (detail: unknown) =>
        new DocumentError({ reason: "Overlay", source: name, detail: detailOf(detail) })
      const read = typeof overlay === "string"
        ? yield* Effect.tryPromise({
          try: () => parseFile(overlay, { resolve: http }) as Promise<unknown>,
          catch: failOverlay
        })
        : overlay
      const applied = overlays.apply(document, structuredClone(read))
      if (typeof applied === "string") return yield* failOverlay(`${applied} (applied to ${source})`)
      document = applied
    }
    if (options.patch !== undefined && options.patch.length > 0) {
      const patched = yield* Effect.try({
        try: () => jsonPatch.applyPatch(document, options.patch as Array<any>, true, false).newDocument,
        catch: (cause) => fail("Patch", cause)
      })
      document = patched
    }
    // Relative $refs resolve against the source: its path, or its URL.
    return yield* Effect.tryPromise({
      try: () =>
        (SwaggerParser as any).bundle(source, document, {
          resolve: { external: true, ...http },
          validate: { schema: false, spec: false }
        }) as Promise<Document>,
      catch: (cause) => fail("Reference", cause)
    })
  })
