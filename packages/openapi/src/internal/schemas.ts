/**
 * The mapping from OpenAPI / JSON Schema to Effect Schema source text, with the
 * TypeScript types written beside it (so the generated module type-checks
 * fast: every component is a `const` with a declared type, never an inferred
 * one).
 */
import * as Naming from "./naming.js"

/** A JSON Schema object as found in the document. */
export type Json = Record<string, any>

/** Source text of one Schema: its code, its Type and its Encoded type. */
export interface Emitted {
  readonly code: string
  readonly type: string
  readonly encoded: string
}

const unknown: Emitted = { code: "Schema.Unknown", type: "unknown", encoded: "unknown" }

const componentPrefix = "#/components/schemas/"

/** Reads a JSON pointer (`#/a/b`) in the document. */
export const resolvePointer = (doc: Json, ref: string): Json | undefined => {
  if (!ref.startsWith("#")) return undefined
  let node: any = doc
  for (const raw of ref.slice(1).split("/").filter((s) => s.length > 0)) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~")
    if (node === null || typeof node !== "object" || !(part in node)) return undefined
    node = node[part]
  }
  return node as Json
}

/** Follows `$ref`s (of parameters, responses, bodies) to the object they name. */
export const deref = (doc: Json, node: Json | undefined, depth = 0): Json | undefined => {
  if (node === undefined || node === null || typeof node !== "object") return undefined
  if (typeof node["$ref"] === "string" && depth < 20) return deref(doc, resolvePointer(doc, node["$ref"]), depth + 1)
  return node
}

export interface Context {
  readonly doc: Json
  /** Component name → identifier. */
  readonly names: Map<string, string>
  /** Components whose Encoded type differs from their Type. */
  readonly transforms: Set<string>
  /** Identifiers already declared above the one being emitted (others are suspended). */
  readonly declared: Set<string>
  /** The module alias components are read from ("" inside the schemas module itself). */
  readonly prefix: string
  /** Components referenced while emitting (to know which to generate). */
  readonly used: Set<string>
  /** Problems met, as "where: what". */
  readonly notes: Array<string>
  readonly where: string
  /** How `format: int64` maps: `number` (default, as openapi-typescript and orval do) or `bigint`. */
  readonly int64?: "number" | "bigint" | undefined
  /** Inside a multipart/form-data body: binary strings (`format: binary`, `contentMediaType`) are `Blob`s. */
  readonly multipart?: boolean | undefined
}

const literal = (value: unknown): string => JSON.stringify(value)

const typesOf = (schema: Json): Array<string> =>
  Array.isArray(schema["type"])
    ? schema["type"] as Array<string>
    : typeof schema["type"] === "string"
    ? [schema["type"]]
    : []

const union = (members: Array<Emitted>): Emitted => {
  const distinct = members.filter((m, i) => members.findIndex((n) => n.code === m.code) === i)
  if (distinct.length === 0) return unknown
  if (distinct.length === 1) return distinct[0]!
  if (distinct.some((m) => m.code === "Schema.Unknown")) return unknown
  return {
    code: `Schema.Union(${distinct.map((m) => m.code).join(", ")})`,
    type: distinct.map((m) => `(${m.type})`).join(" | "),
    encoded: distinct.map((m) => `(${m.encoded})`).join(" | ")
  }
}

const nullOr = (e: Emitted): Emitted =>
  e.code === "Schema.Unknown" || e.code === "Schema.Null"
    ? e
    : { code: `Schema.NullOr(${e.code})`, type: `${e.type} | null`, encoded: `${e.encoded} | null` }

/** The object parts of a schema (properties, required, extra) when it is object-like, merging `allOf`. */
interface ObjectParts {
  readonly properties: Array<[string, Json]>
  readonly required: Set<string>
  readonly additional: Json | boolean | undefined
}

export const objectParts = (doc: Json, schema: Json, seen: Set<Json> = new Set()): ObjectParts | undefined => {
  if (seen.has(schema)) return undefined
  seen.add(schema)
  if (typeof schema["$ref"] === "string") {
    const target = resolvePointer(doc, schema["$ref"])
    return target === undefined ? undefined : objectParts(doc, target, seen)
  }
  const properties: Array<[string, Json]> = []
  const required = new Set<string>()
  let additional: Json | boolean | undefined
  let objectLike = false
  const add = (parts: ObjectParts) => {
    for (const [name, prop] of parts.properties) {
      const at = properties.findIndex(([n]) => n === name)
      if (at >= 0) properties[at] = [name, prop]
      else properties.push([name, prop])
    }
    for (const r of parts.required) required.add(r)
    if (parts.additional !== undefined) additional = parts.additional
  }
  if (Array.isArray(schema["allOf"])) {
    for (const member of schema["allOf"] as Array<Json>) {
      const parts = objectParts(doc, member, seen)
      if (parts === undefined) {
        // A member with only `required` (or a description) adds nothing but names.
        if (member["properties"] === undefined && Array.isArray(member["required"])) {
          for (const r of member["required"]) required.add(r)
          continue
        }
        if (Object.keys(member).every((k) => ["description", "title", "nullable", "example"].includes(k))) continue
        return undefined
      }
      add(parts)
    }
    objectLike = true
  }
  if (schema["properties"] !== undefined || typesOf(schema).includes("object")) {
    objectLike = true
    add({
      properties: Object.entries((schema["properties"] ?? {}) as Record<string, Json>),
      required: new Set(Array.isArray(schema["required"]) ? schema["required"] as Array<string> : []),
      additional: schema["additionalProperties"]
    })
  } else if (Array.isArray(schema["required"])) {
    for (const r of schema["required"]) required.add(r)
  }
  if (!objectLike || schema["oneOf"] !== undefined || schema["anyOf"] !== undefined) return undefined
  return { properties, required, additional }
}

const isEmpty = (schema: Json) =>
  Object.keys(schema).every((k) => ["description", "title", "example", "examples", "default", "deprecated"].includes(k))

const inlining = new Set<string>()

const refTo = (ctx: Context, ref: string, depth: number): Emitted => {
  const component = ref.startsWith(componentPrefix) ? ref.slice(componentPrefix.length) : undefined
  const name = component === undefined ? undefined : ctx.names.get(decodeURIComponent(component).replace(/~1/g, "/"))
  if (component === undefined || name === undefined) {
    // A schema that `bundle` placed elsewhere (from another file): inlined, unless it refers to itself.
    const target = resolvePointer(ctx.doc, ref)
    if (target === undefined || inlining.has(ref)) {
      ctx.notes.push(
        `${ctx.where}: $ref ${ref} ${
          target === undefined ? "does not resolve" : "is recursive outside components"
        }; unknown`
      )
      return unknown
    }
    inlining.add(ref)
    const e = emit(ctx, target, depth + 1)
    inlining.delete(ref)
    return e
  }
  ctx.used.add(name)
  const id = `${ctx.prefix}${name}`
  const encodedId = ctx.transforms.has(name) ? `${ctx.prefix}${name}Encoded` : id
  const code = ctx.prefix === "" && !ctx.declared.has(name)
    ? `Schema.suspend((): Schema.Schema<${id}, ${encodedId}> => ${id})`
    : id
  return { code, type: id, encoded: encodedId }
}

/** An object's Struct from its parts. */
const struct = (ctx: Context, parts: ObjectParts, depth: number): Emitted => {
  const fields: Array<string> = []
  const types: Array<string> = []
  const encodeds: Array<string> = []
  for (const [name, prop] of parts.properties) {
    const e = emit(ctx, prop, depth + 1)
    const k = Naming.key(name)
    if (parts.required.has(name)) {
      fields.push(`${k}: ${e.code}`)
      types.push(`readonly ${k}: ${e.type}`)
      encodeds.push(`readonly ${k}: ${e.encoded}`)
    } else {
      fields.push(`${k}: Schema.optional(${e.code})`)
      types.push(`readonly ${k}?: ${e.type} | undefined`)
      encodeds.push(`readonly ${k}?: ${e.encoded} | undefined`)
    }
  }
  const extra = parts.additional
  const extraSchema = typeof extra === "object" && extra !== null && !isEmpty(extra)
    ? emit(ctx, extra, depth + 1)
    : undefined
  if (fields.length === 0) {
    // A map: `additionalProperties` alone, or a free-form object.
    const value = extraSchema ?? unknown
    return {
      code: `Schema.Record({ key: Schema.String, value: ${value.code} })`,
      type: `{ readonly [key: string]: ${value.type} }`,
      encoded: `{ readonly [key: string]: ${value.encoded} }`
    }
  }
  if (extraSchema !== undefined) {
    return {
      code: `Schema.Struct({ ${
        fields.join(", ")
      } }, Schema.Record({ key: Schema.String, value: ${extraSchema.code} }))`,
      type: `{ ${types.join("; ")} } & { readonly [key: string]: ${extraSchema.type} }`,
      encoded: `{ ${encodeds.join("; ")} } & { readonly [key: string]: ${extraSchema.encoded} }`
    }
  }
  return {
    code: `Schema.Struct({ ${fields.join(", ")} })`,
    type: `{ ${types.join("; ")} }`,
    encoded: `{ ${encodeds.join("; ")} }`
  }
}

/** The Schema of a JSON Schema, as source text. */
export const emit = (ctx: Context, schema: Json | boolean | undefined, depth = 0): Emitted => {
  if (schema === undefined || schema === true || schema === null || typeof schema !== "object") return unknown
  if (depth > 40) {
    ctx.notes.push(`${ctx.where}: schema nested deeper than 40 levels; the rest is unknown`)
    return unknown
  }
  if (typeof schema["$ref"] === "string") return refTo(ctx, schema["$ref"], depth)
  const nullable = schema["nullable"] === true ||
    (Array.isArray(schema["type"]) && (schema["type"] as Array<string>).includes("null"))
  const wrap = (e: Emitted) => nullable ? nullOr(e) : e

  if ("const" in schema) return wrap(literalOf([schema["const"]]))
  if (Array.isArray(schema["enum"])) {
    const values = (schema["enum"] as Array<unknown>).filter((v) =>
      v === null || ["string", "number", "boolean"].includes(typeof v)
    )
    if (values.length === 0) return wrap(unknown)
    const withNull = values.includes(null)
    const e = literalOf(values.filter((v) => v !== null))
    return withNull || nullable ? nullOr(e) : e
  }
  const alternatives = (schema["oneOf"] ?? schema["anyOf"]) as Array<Json> | undefined
  if (Array.isArray(alternatives)) {
    const members = alternatives.map((m) => emit(ctx, m, depth + 1))
    // `{ type: object, properties, oneOf: [{ required: [...] }] }`: the alternatives only constrain.
    const constraining = alternatives.every((m) =>
      m["properties"] === undefined && m["$ref"] === undefined &&
      m["type"] === undefined && m["enum"] === undefined && m["oneOf"] === undefined && m["anyOf"] === undefined &&
      m["allOf"] === undefined && m["items"] === undefined
    )
    if (constraining) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema
      return emit(ctx, rest, depth)
    }
    const nullMembers = alternatives.filter((m) => typesOf(m).length === 1 && typesOf(m)[0] === "null").length
    const discriminated = discriminate(ctx, schema, alternatives, members)
    const e = union(discriminated.filter((m) => m.code !== "Schema.Null"))
    return nullable || nullMembers > 0 ? nullOr(e) : e
  }
  if (Array.isArray(schema["allOf"])) {
    const members = schema["allOf"] as Array<Json>
    const parts = objectParts(ctx.doc, schema)
    if (parts !== undefined) return wrap(struct(ctx, parts, depth))
    const meaningful = members.filter((m) => !isEmpty(m))
    if (meaningful.length === 1) return wrap(emit(ctx, meaningful[0]!, depth + 1))
    ctx.notes.push(`${ctx.where}: allOf of non-object members; only the first is checked`)
    return wrap(meaningful.length === 0 ? unknown : emit(ctx, meaningful[0]!, depth + 1))
  }
  const types = typesOf(schema).filter((t) => t !== "null")
  if (types.length === 0 && typesOf(schema).includes("null")) {
    return { code: "Schema.Null", type: "null", encoded: "null" }
  }
  if (types.length > 1) {
    return wrap(union(types.map((type) => emit(ctx, { ...schema, type, nullable: false }, depth + 1))))
  }
  const type = types[0] ??
    (schema["properties"] !== undefined || schema["additionalProperties"] !== undefined
      ? "object"
      : schema["items"] !== undefined
      ? "array"
      : undefined)
  switch (type) {
    case "string": {
      if (schema["format"] === "date-time") return wrap({ code: "Schema.Date", type: "Date", encoded: "string" })
      if (
        ctx.multipart === true &&
        (schema["format"] === "binary" ||
          (typeof schema["contentMediaType"] === "string" && schema["contentEncoding"] === undefined))
      ) return wrap({ code: "Schema.instanceOf(Blob)", type: "Blob", encoded: "Blob" })
      // An int64 sent as a string (Google's style) is exact as a bigint.
      if (schema["format"] === "int64" && ctx.int64 === "bigint") {
        return wrap({ code: "Schema.BigInt", type: "bigint", encoded: "string" })
      }
      return wrap({ code: `Schema.String${stringChecks(schema)}`, type: "string", encoded: "string" })
    }
    case "integer":
      if (schema["format"] === "int64" && ctx.int64 === "bigint") {
        // From a JSON number (exact up to 2^53: JSON.parse has rounded the rest) or a string; encodes
        // to a number when it is safe, to a string otherwise.
        return wrap({
          code: "Schema.Union(Schema.BigIntFromNumber, Schema.BigInt)",
          type: "bigint",
          encoded: "number | string"
        })
      }
      return wrap({ code: `Schema.Int${numberChecks(schema)}`, type: "number", encoded: "number" })
    case "number":
      return wrap({ code: `Schema.Number${numberChecks(schema)}`, type: "number", encoded: "number" })
    case "boolean":
      return wrap({ code: "Schema.Boolean", type: "boolean", encoded: "boolean" })
    case "null":
      return { code: "Schema.Null", type: "null", encoded: "null" }
    case "array": {
      const item = emit(ctx, schema["items"], depth + 1)
      const checks = [
        typeof schema["minItems"] === "number" && schema["minItems"] > 0
          ? `Schema.minItems(${schema["minItems"]})`
          : "",
        typeof schema["maxItems"] === "number" ? `Schema.maxItems(${schema["maxItems"]})` : "",
        schema["uniqueItems"] === true ? uniqueItems(item) : ""
      ].filter((c) => c.length > 0)
      return wrap({
        code: `Schema.Array(${item.code})${checks.length === 0 ? "" : `.pipe(${checks.join(", ")})`}`,
        type: `ReadonlyArray<${item.type}>`,
        encoded: `ReadonlyArray<${item.encoded}>`
      })
    }
    case "object": {
      const parts = objectParts(ctx.doc, schema)
      return wrap(parts === undefined ? unknown : struct(ctx, parts, depth))
    }
    default:
      return wrap(unknown)
  }
}

/**
 * `uniqueItems` as a filter on the decoded items: scalars compared by value, anything else by its
 * JSON text (the decoded form follows the Schema's key order, so equal items give equal text).
 */
const uniqueItems = (item: Emitted): string =>
  /^(string|number|boolean|bigint|null|"[^"]*"|[-\d.e]+|true|false)( \| (string|number|boolean|bigint|null|"[^"]*"|[-\d.e]+|true|false))*$/
      .test(item.type)
    ? `Schema.filter((items) => new Set(items).size === items.length || "the items must be unique (uniqueItems)")`
    : `Schema.filter((items) => new Set(items.map((item) => JSON.stringify(item, (_, v) => typeof v === "bigint" ? String(v) : v))).size === items.length || "the items must be unique (uniqueItems)")`

/**
 * `oneOf`/`anyOf` with a `discriminator`: each member that is an object component gets its
 * discriminator property narrowed to the member's values (the `mapping`'s keys that name it, or its
 * component name), so decoding picks the member by the property's value rather than by trying
 * members in order, and the Type is a union tagged by that property. A member left as it is (not a
 * plain object component, one declared later in a cycle, or already narrowed by a `const`/`enum` of
 * its own) is noted when it cannot be narrowed.
 */
const discriminate = (
  ctx: Context,
  schema: Json,
  alternatives: Array<Json>,
  members: Array<Emitted>
): Array<Emitted> => {
  const property = schema["discriminator"]?.["propertyName"]
  if (typeof property !== "string") return members
  const mapping = (schema["discriminator"]?.["mapping"] ?? {}) as Record<string, unknown>
  const componentOf = (ref: string) =>
    ref.startsWith(componentPrefix)
      ? decodeURIComponent(ref.slice(componentPrefix.length)).replace(/~1/g, "/").replace(/~0/g, "~")
      : ref.includes("/")
      ? undefined
      : ref
  return alternatives.map((alternative, i) => {
    const member = members[i]!
    const ref = alternative["$ref"]
    const component = typeof ref === "string" ? componentOf(ref) : undefined
    const name = component === undefined ? undefined : ctx.names.get(component)
    const target = typeof ref === "string" ? resolvePointer(ctx.doc, ref) : undefined
    if (component === undefined || name === undefined || target === undefined) return member
    const parts = objectParts(ctx.doc, target)
    const own = parts?.properties.find(([n]) => n === property)?.[1]
    const ownSchema = own === undefined ? undefined : deref(ctx.doc, own)
    const explicit = Object.entries(mapping).filter(([, to]) => typeof to === "string" && componentOf(to) === component)
      .map(([value]) => value)
    // Already a literal of its own (`const`, `enum`) and not mapped otherwise: the union discriminates as it is.
    if (
      explicit.length === 0 && ownSchema !== undefined && ("const" in ownSchema || Array.isArray(ownSchema["enum"]))
    ) {
      return member
    }
    const values = explicit.length > 0 ? explicit : [component]
    // Mapping values are strings: a property of another type cannot take them.
    const ownTypes = ownSchema === undefined ? [] : typesOf(ownSchema).filter((t) => t !== "null")
    if (ownTypes.length > 0 && !ownTypes.includes("string")) {
      ctx.notes.push(`${ctx.where}: discriminator ${property} of ${component} is not a string; tried in order`)
      return member
    }
    const plainObject = parts !== undefined && parts.properties.length > 0 && target["nullable"] !== true &&
      !(typeof parts.additional === "object" && parts.additional !== null && !isEmpty(parts.additional)) &&
      member.code === `${ctx.prefix}${name}`
    if (!plainObject) {
      ctx.notes.push(
        `${ctx.where}: discriminator ${property}: member ${component} is not a plain object declared before the union; tried in order`
      )
      return member
    }
    const required = parts.required.has(property)
    const lit = literalOf(values)
    const key = Naming.key(property)
    const field = `${key}${required ? "" : "?"}: ${lit.type}${required ? "" : " | undefined"}`
    return {
      code: `Schema.extend(${member.code}.pipe(Schema.omit(${JSON.stringify(property)})), Schema.Struct({ ${key}: ${
        required ? lit.code : `Schema.optional(${lit.code})`
      } }))`,
      type: `Omit<${member.type}, ${JSON.stringify(property)}> & { readonly ${field} }`,
      encoded: `Omit<${member.encoded}, ${JSON.stringify(property)}> & { readonly ${field} }`
    }
  })
}

/** `pattern`, `minLength`, `maxLength` as Schema filters (a pattern JavaScript cannot compile is left out). */
const stringChecks = (schema: Json): string => {
  const checks: Array<string> = []
  if (typeof schema["pattern"] === "string") {
    try {
      new RegExp(schema["pattern"], "u")
      checks.push(`Schema.pattern(new RegExp(${JSON.stringify(schema["pattern"])}, "u"))`)
    } catch {
      // Not an ECMAScript pattern: the document's other checks still apply.
    }
  }
  if (typeof schema["minLength"] === "number") checks.push(`Schema.minLength(${schema["minLength"]})`)
  if (typeof schema["maxLength"] === "number") checks.push(`Schema.maxLength(${schema["maxLength"]})`)
  return checks.length === 0 ? "" : `.pipe(${checks.join(", ")})`
}

/** `minimum`, `maximum` (and 3.0's boolean or 3.1's numeric exclusive bounds) as Schema filters. */
const numberChecks = (schema: Json): string => {
  const checks: Array<string> = []
  const min = schema["minimum"]
  const max = schema["maximum"]
  const exMin = schema["exclusiveMinimum"]
  const exMax = schema["exclusiveMaximum"]
  if (typeof exMin === "number") checks.push(`Schema.greaterThan(${exMin})`)
  else if (typeof min === "number") {
    checks.push(exMin === true ? `Schema.greaterThan(${min})` : `Schema.greaterThanOrEqualTo(${min})`)
  }
  if (typeof exMax === "number") checks.push(`Schema.lessThan(${exMax})`)
  else if (typeof max === "number") {
    checks.push(exMax === true ? `Schema.lessThan(${max})` : `Schema.lessThanOrEqualTo(${max})`)
  }
  return checks.length === 0 ? "" : `.pipe(${checks.join(", ")})`
}

const literalOf = (values: Array<unknown>): Emitted => {
  if (values.length === 0) return { code: "Schema.Null", type: "null", encoded: "null" }
  const text = values.map(literal)
  return {
    code: `Schema.Literal(${text.join(", ")})`,
    type: text.join(" | "),
    encoded: text.join(" | ")
  }
}

/**
 * The Schema of a path, query or header parameter: it must encode to strings
 * (`HttpApiEndpoint` requires it). `undefined` when the parameter has no such
 * form (objects, deep objects).
 */
export const emitParam = (
  ctx: Context,
  schema: Json | undefined,
  allowArray: boolean,
  depth = 0
): Emitted | undefined => {
  const s = schema === undefined ? undefined : schema["$ref"] !== undefined ? deref(ctx.doc, schema) : schema
  if (s === undefined || isEmpty(s)) return { code: "Schema.String", type: "string", encoded: "string" }
  if (depth > 5) return undefined
  const alternatives = (s["oneOf"] ?? s["anyOf"]) as Array<Json> | undefined
  if (Array.isArray(alternatives)) {
    // A union of scalars: the first alternative's string form (servers parse the text anyway).
    const first = alternatives.find((a) => typesOf(deref(ctx.doc, a) ?? {}).some((t) => t !== "null"))
    return first === undefined ? undefined : emitParam(ctx, first, allowArray, depth + 1)
  }
  if (Array.isArray(s["enum"])) {
    const values = (s["enum"] as Array<unknown>).filter((v) => v !== null)
    if (values.every((v) => typeof v === "string") && values.length > 0) return literalOf(values)
  }
  const type = typesOf(s).find((t) => t !== "null") ?? (s["items"] !== undefined ? "array" : "string")
  switch (type) {
    case "integer":
      if (s["format"] === "int64" && ctx.int64 === "bigint") {
        return { code: "Schema.BigInt", type: "bigint", encoded: "string" }
      }
      return { code: "Schema.NumberFromString.pipe(Schema.int())", type: "number", encoded: "string" }
    case "number":
      return { code: "Schema.NumberFromString", type: "number", encoded: "string" }
    case "boolean":
      return { code: "Schema.BooleanFromString", type: "boolean", encoded: "string" }
    case "string":
      return { code: "Schema.String", type: "string", encoded: "string" }
    case "array": {
      if (!allowArray) return undefined
      const item = emitParam(ctx, s["items"], false, depth + 1)
      return item === undefined ? undefined : {
        code: `Schema.Array(${item.code})`,
        type: `ReadonlyArray<${item.type}>`,
        encoded: `ReadonlyArray<${item.encoded}>`
      }
    }
    default:
      return undefined
  }
}

/** Component names referenced (directly) by a schema. */
export const refsOf = (schema: unknown, out: Set<string> = new Set()): Set<string> => {
  if (Array.isArray(schema)) {
    for (const s of schema) refsOf(s, out)
  } else if (schema !== null && typeof schema === "object") {
    for (const [k, v] of Object.entries(schema)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith(componentPrefix)) {
        out.add(decodeURIComponent(v.slice(componentPrefix.length)).replace(/~1/g, "/"))
      } else if (k !== "example" && k !== "examples") refsOf(v, out)
    }
  }
  return out
}

/**
 * Whether a schema has a transformation of its own: a `date-time` string, or an `int64` when it maps
 * to `bigint`.
 */
export const hasDirectTransform = (schema: unknown, int64Bigint = false): boolean => {
  if (Array.isArray(schema)) return schema.some((s) => hasDirectTransform(s, int64Bigint))
  if (schema === null || typeof schema !== "object") return false
  const s = schema as Json
  if (s["format"] === "date-time" && s["enum"] === undefined && typesOf(s).includes("string")) return true
  if (int64Bigint && s["format"] === "int64" && s["enum"] === undefined) return true
  return Object.entries(s).some(([k, v]) => k !== "example" && k !== "examples" && hasDirectTransform(v, int64Bigint))
}
