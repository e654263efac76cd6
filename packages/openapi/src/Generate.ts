/**
 * `apikit generate openapi`: from a bundled OpenAPI document to a TypeScript
 * module a user commits and edits: Schemas from the components, an `HttpApi`
 * with one endpoint per operation (one file per tag), the typed client through
 * the apikit pipeline (`Endpoints.client`), auth from the security schemes,
 * idempotency keys and rate-limit costs per endpoint, pagination functions
 * where the style is recognised, webhook event Schemas and MockHttp routes.
 * Every operation left out is listed in the result with the reason.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Document from "./Document.js"
import * as internal from "./internal/generate.js"

/**
 * Options of {@link generate}.
 *
 * @since 0.1.0
 * @category options
 */
export type Options = internal.Options

/**
 * An operation (or webhook) left out, and why.
 *
 * @since 0.1.0
 * @category models
 */
export type Skipped = internal.Skipped

/**
 * The generated files (paths relative to the output directory) and what was made.
 *
 * @since 0.1.0
 * @category models
 */
export type Output = internal.Output

/**
 * Generates the module's files for `document`.
 *
 * @since 0.1.0
 * @category generation
 */
export const generate = (document: Document.Document, options: Options): Effect.Effect<Output> =>
  Effect.sync(() => internal.generate(document as internal.Json, options))

/**
 * A plain-text report of what was generated and what was left out.
 *
 * @since 0.1.0
 * @category generation
 */
export const report = (output: Output): string =>
  [
    `${output.endpoints}/${output.operations} operations as endpoints, ${output.schemas} schemas, ${output.paginated} paginated, ${output.webhooks} webhook events`,
    ...(output.skipped.length === 0 ? [] : [
      `skipped (${output.skipped.length}):`,
      ...output.skipped.map((s) => `  ${s.where}: ${s.reason}`)
    ]),
    ...(output.notes.length === 0 ? [] : [
      `notes (${output.notes.length}):`,
      ...output.notes.map((n) => `  ${n}`)
    ])
  ].join("\n")
