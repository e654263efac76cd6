/**
 * GraphQL machinery without a GraphQL runtime: finding an operation's name
 * and kind in a document, and reading a response envelope (`data`, `errors`,
 * `extensions`) of any shape without throwing.
 *
 * @internal
 */
import * as Redaction from "../Redaction.js"

/** @internal */
export type Kind = "query" | "mutation" | "subscription"

const nameStart = /[_A-Za-z]/
const nameChar = /[_0-9A-Za-z]/

/**
 * The operations a document defines, in order: kind and name (undefined when
 * anonymous). Reads only the top level (depth 0), skipping comments and
 * strings, so a field argument named `query` is not mistaken for an operation.
 *
 * @internal
 */
export const operations = (document: string): ReadonlyArray<{ readonly kind: Kind; readonly name?: string }> => {
  const out: Array<{ kind: Kind; name?: string }> = []
  let depth = 0
  let i = 0
  // A definition keyword was read and its selection set has not opened yet.
  let pending = false
  const n = document.length
  const word = () => {
    const start = i
    while (i < n && nameChar.test(document[i]!)) i++
    return document.slice(start, i)
  }
  const skipIgnored = () => {
    while (i < n) {
      const c = document[i]!
      if (c === "#") {
        while (i < n && document[i] !== "\n") i++
      } else if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "," || c === "\ufeff") i++
      else return
    }
  }
  while (i < n) {
    const c = document[i]!
    if (c === "#") {
      while (i < n && document[i] !== "\n") i++
    } else if (c === "\"") {
      if (document.startsWith("\"\"\"", i)) {
        const end = document.indexOf("\"\"\"", i + 3)
        i = end < 0 ? n : end + 3
      } else {
        i++
        while (i < n && document[i] !== "\"" && document[i] !== "\n") i += document[i] === "\\" ? 2 : 1
        i++
      }
    } else if (c === "{") {
      // An anonymous query in shorthand form: `{ viewer { login } }`.
      if (depth === 0 && !pending) out.push({ kind: "query" })
      pending = false
      depth++
      i++
    } else if (c === "}") {
      depth = Math.max(0, depth - 1)
      i++
    } else if (depth === 0 && nameStart.test(c)) {
      const w = word()
      if (w === "query" || w === "mutation" || w === "subscription") {
        skipIgnored()
        const name = i < n && nameStart.test(document[i]!) ? word() : undefined
        out.push(name === undefined ? { kind: w } : { kind: w, name })
        pending = true
      } else if (w === "fragment") {
        pending = true
      }
    } else if (depth === 0 && c === "(") {
      // Variable definitions may hold default values with braces: skip to the closing parenthesis.
      let level = 0
      while (i < n) {
        const d = document[i]!
        if (d === "(") level++
        else if (d === ")" && --level === 0) break
        else if (d === "\"") {
          i++
          while (i < n && document[i] !== "\"") i += document[i] === "\\" ? 2 : 1
        }
        i++
      }
      i++
    } else i++
  }
  return out
}

/**
 * One error of a GraphQL response, normalized from whatever the server sent.
 *
 * @internal
 */
export interface ErrorItem {
  readonly message: string
  readonly path?: ReadonlyArray<string | number>
  readonly locations?: ReadonlyArray<{ readonly line: number; readonly column: number }>
  readonly code?: string
}

/**
 * A GraphQL response: `hasData` tells whether the `data` key was present (a
 * request error, such as a syntax error, has none).
 *
 * @internal
 */
export interface Envelope {
  readonly hasData: boolean
  readonly data: unknown
  readonly errors: ReadonlyArray<ErrorItem>
  readonly extensions: unknown
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const errorItem = (raw: unknown): ErrorItem => {
  if (!isRecord(raw)) {
    return { message: typeof raw === "string" ? Redaction.excerpt(raw, 500) : "(an error without a message)" }
  }
  const message = typeof raw["message"] === "string"
    ? Redaction.excerpt(raw["message"], 500)
    : "(an error without a message)"
  const path = Array.isArray(raw["path"])
    ? raw["path"].filter((p): p is string | number =>
      typeof p === "string" || (typeof p === "number" && Number.isFinite(p))
    ).map((p) => typeof p === "string" ? Redaction.excerpt(p, 100) : p)
    : undefined
  const locations = Array.isArray(raw["locations"])
    ? raw["locations"].flatMap((l) =>
      isRecord(l) && Number.isFinite(l["line"]) && Number.isFinite(l["column"])
        ? [{ line: l["line"] as number, column: l["column"] as number }]
        : []
    )
    : undefined
  const extensions = raw["extensions"]
  // The spec's extensions.code; GitHub sends `type` (NOT_FOUND, FORBIDDEN, RATE_LIMITED) instead.
  const code = isRecord(extensions) && typeof extensions["code"] === "string"
    ? extensions["code"]
    : typeof raw["type"] === "string"
    ? raw["type"]
    : undefined
  return {
    message,
    ...(path === undefined ? {} : { path }),
    ...(locations === undefined || locations.length === 0 ? {} : { locations }),
    ...(code === undefined ? {} : { code: Redaction.excerpt(code, 100) })
  }
}

/**
 * Reads a parsed body as a GraphQL response; `undefined` when it is not one
 * (not an object, or neither `data` nor `errors`). Never throws.
 *
 * @internal
 */
export const envelope = (body: unknown): Envelope | undefined => {
  if (!isRecord(body) || !("data" in body || "errors" in body)) return undefined
  const raw = body["errors"]
  const errors = raw === undefined || raw === null
    ? []
    : Array.isArray(raw)
    ? raw.map(errorItem)
    : [errorItem(raw)]
  return { hasData: "data" in body, data: body["data"], errors, extensions: body["extensions"] }
}

/** @internal */
export const parseJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return undefined
  }
}

const throttledCodes: ReadonlySet<string> = new Set([
  "THROTTLED",
  "RATE_LIMITED",
  "RATE_LIMIT_EXCEEDED",
  "RATELIMITED",
  "TOO_MANY_REQUESTS"
])
const unauthenticatedCodes: ReadonlySet<string> = new Set(["UNAUTHENTICATED", "UNAUTHORIZED", "AUTHENTICATION_ERROR"])
const forbiddenCodes: ReadonlySet<string> = new Set(["FORBIDDEN", "ACCESS_DENIED"])
const notFoundCodes: ReadonlySet<string> = new Set(["NOT_FOUND"])

/**
 * The ApiError a provider's error code means, when it means one.
 *
 * @internal
 */
export const meaning = (
  code: string | undefined
): "RateLimited" | "Unauthorized" | "Forbidden" | "NotFound" | undefined => {
  if (code === undefined) return undefined
  const c = code.toUpperCase()
  return throttledCodes.has(c)
    ? "RateLimited"
    : unauthenticatedCodes.has(c)
    ? "Unauthorized"
    : forbiddenCodes.has(c)
    ? "Forbidden"
    : notFoundCodes.has(c)
    ? "NotFound"
    : undefined
}

/**
 * The ApiError every error of the list means, when they all mean the same one.
 *
 * @internal
 */
export const commonMeaning = (errors: ReadonlyArray<ErrorItem>) => {
  if (errors.length === 0) return undefined
  const first = meaning(errors[0]!.code)
  return first !== undefined && errors.every((e) => meaning(e.code) === first) ? first : undefined
}

/**
 * Syntax (the document does not parse), Validation (it parses but is not
 * valid for the schema, or its variables are wrong: the request never ran), or
 * Execution (it ran and a resolver failed).
 *
 * @internal
 */
export const reasonOf = (env: Envelope, status: number): "Syntax" | "Validation" | "Execution" => {
  const syntax = env.errors.some((e) => e.code === "GRAPHQL_PARSE_FAILED" || /^syntax error/i.test(e.message))
  if (syntax) return "Syntax"
  if (
    env.errors.some((e) => e.code === "GRAPHQL_VALIDATION_FAILED") ||
    (!env.hasData && (status >= 400 || env.errors.every((e) => e.path === undefined)))
  ) return "Validation"
  return "Execution"
}
