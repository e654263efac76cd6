/**
 * Turning a read 2xx response into the caller's value: the bytes for a
 * `Schema.Uint8ArrayFromSelf` success; otherwise an empty body is
 * `undefined`, else JSON, then the success Schema. Failures are
 * `DecodeError`s that say what was wrong and show a masked excerpt.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as ApiError from "../ApiError.js"
import type * as Policy from "../Policy.js"
import * as Redaction from "../Redaction.js"
import * as classify from "./classify.js"
import { codec } from "./codec.js"

const utf8 = new TextDecoder()

const decodeFailure = (
  response: Policy.ApiResponse,
  context: Policy.CallContext,
  reason: ApiError.DecodeError["reason"],
  detail: string
) => {
  const id = classify.requestId(response.headers)
  return Effect.fail(
    new ApiError.DecodeError({
      method: context.method,
      url: context.url,
      status: response.status,
      reason,
      detail,
      ...(id === undefined ? {} : { requestId: id }),
      ...(response.body.length === 0 ? {} : { body: Redaction.excerpt(response.body) })
    })
  )
}

const bytesDeclaration = Schema.Uint8ArrayFromSelf.ast as SchemaAST.Declaration

/**
 * Whether `ast` is `Schema.Uint8ArrayFromSelf`, however annotated (HttpApi endpoints re-annotate
 * their success schemas): the same declaration, whose decoder annotations never replace.
 */
const isBytes = (ast: SchemaAST.AST): boolean =>
  ast._tag === "Declaration" && ast.decodeUnknown === bytesDeclaration.decodeUnknown

/**
 * Decodes a 2xx body: with a `Schema.Uint8ArrayFromSelf` success Schema, the bytes as they came;
 * otherwise empty → `undefined`, else JSON, then the success Schema.
 */
export const decode = <A>(
  response: Policy.ApiResponse,
  schema: Schema.Schema<A, any, never> | undefined,
  context: Policy.CallContext
): Effect.Effect<A, ApiError.DecodeError> => {
  if (schema !== undefined && isBytes(schema.ast)) return Effect.succeed(response.body as A)
  let value: unknown = undefined
  if (response.body.length > 0) {
    const text = utf8.decode(response.body)
    try {
      value = JSON.parse(text)
    } catch (e) {
      if (schema === undefined) return Effect.succeed(text as A)
      const type = response.headers["content-type"] ?? "no content-type"
      const coding = response.headers["content-encoding"]
      const shown = coding === undefined ? type : `${type}, content-encoding: ${coding}`
      return decodeFailure(
        response,
        context,
        "InvalidJson",
        `${(e as Error).message} (content-type: ${Redaction.excerpt(shown, 150)})`
      )
    }
  }
  if (schema === undefined) return Effect.succeed(value as A)
  const result = codec("decode", schema)(value)
  return Either.isRight(result)
    ? Effect.succeed(result.right as A)
    : decodeFailure(
      response,
      context,
      "SchemaMismatch",
      Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(result.left))
    )
}
