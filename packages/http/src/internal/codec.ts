/**
 * Schema codecs, made once per Schema: `ParseResult.decodeUnknownEither`
 * builds a parser on every call otherwise.
 *
 * @internal
 */
import type * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"

/** @internal */
export type Codec = (u: unknown) => Either.Either<unknown, ParseResult.ParseIssue>

const cache = { decode: new WeakMap<object, Codec>(), encode: new WeakMap<object, Codec>() }

/** The cached decoder or encoder of `schema`, reporting all errors. @internal */
export const codec = (direction: "decode" | "encode", schema: Schema.Schema<any, any, never>): Codec => {
  const map = cache[direction]
  let f = map.get(schema)
  if (f === undefined) {
    f = direction === "decode"
      ? ParseResult.decodeUnknownEither(schema, { errors: "all" })
      : ParseResult.encodeUnknownEither(schema, { errors: "all" })
    map.set(schema, f)
  }
  return f
}
