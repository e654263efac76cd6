/**
 * Building a call's request from what the caller passed: the base URL, the
 * path template filled with its parameters, the query, the JSON body. Every
 * mistake is an `InvalidRequest`, found before anything is sent.
 *
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as Zlib from "node:zlib"
import type { QueryValue } from "../ApiClient.js"
import * as ApiError from "../ApiError.js"
import * as Redaction from "../Redaction.js"
import { codec } from "./codec.js"

export const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])

export const invalid = (method: string, url: string, reason: ApiError.InvalidRequest["reason"], detail: string) =>
  new ApiError.InvalidRequest({ method, url, reason, detail })

export const parseBaseUrl = (input: string | URL): Either.Either<URL, ApiError.InvalidRequest> => {
  const shown = typeof input === "string" ? Redaction.excerpt(input, 200) : Redaction.url(input)
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return Either.left(
      invalid("*", shown, "InvalidBaseUrl", "the base URL is not an absolute URL such as https://api.example.com/v1")
    )
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Either.left(
      invalid("*", shown, "InvalidBaseUrl", `the base URL must use http or https, not ${url.protocol}`)
    )
  }
  if (url.search !== "" || url.hash !== "") {
    return Either.left(
      invalid(
        "*",
        Redaction.url(url),
        "InvalidBaseUrl",
        "the base URL must not have a query or fragment; pass query parameters per call"
      )
    )
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(
      invalid(
        "*",
        Redaction.url(url),
        "InvalidBaseUrl",
        "credentials in the base URL are not allowed; use an auth policy (Basic) instead"
      )
    )
  }
  return Either.right(url)
}

// `{name}` (OpenAPI: any name without braces or slashes, e.g. `{enterprise-team}`, `{repo.name}`, `{id2}`)
// anywhere in the path; `:name` (Express-style: letters, digits, `_`) at the start of a segment, so
// `/v1/{name}:cancel` (Google's custom methods) keeps its verb.
const paramPattern = /\{([^{}/?#]+)\}|(^|\/):([A-Za-z_][A-Za-z0-9_]*)/g
// Controls, spaces, backslashes and fragments have no place in a path template.
const badPathChars = /[\u0000-\u0020\u007f\\#]/

export interface Target {
  /** What is sent. */
  readonly href: string
  /** What logs, spans and errors show: `href` with secret query values masked. */
  readonly shown: string
  readonly route: string
}

// A filled path made of these characters, without "." or ".." segments, is exactly what the
// URL parser would make of it (nothing to percent-encode or normalize), so it needs no parse.
const plainPath = /^[\w\-.~!$&'()*+,;=:@%/]*$/
const dotSegments = /(^|\/)\.\.?(\/|$)/

export const resolveTarget = (
  base: URL,
  basePath: string,
  method: string,
  path: string,
  params: Readonly<Record<string, string | number>> | undefined,
  query: Readonly<Record<string, QueryValue>> | undefined
): Either.Either<Target, ApiError.InvalidRequest> => {
  const shownPath = Redaction.excerpt(path, 200)
  let url: URL
  let route: string
  if (/^https?:\/\//i.test(path)) {
    // Absolute URLs (pagination `Link` headers) are allowed only on the API's own origin,
    // so credentials stamped by the auth policy never travel to another host.
    try {
      url = new URL(path)
    } catch {
      return Either.left(invalid(method, shownPath, "InvalidPath", "the absolute URL does not parse"))
    }
    if (url.origin !== base.origin) {
      return Either.left(
        invalid(
          method,
          Redaction.url(url),
          "CrossOrigin",
          `absolute URLs must stay on ${base.origin}; credentials are never sent elsewhere`
        )
      )
    }
    route = url.pathname
  } else {
    if (badPathChars.test(path)) {
      return Either.left(
        invalid(method, shownPath, "InvalidPath", "the path contains spaces, control characters, a backslash or '#'")
      )
    }
    let missing: string | undefined
    let dotSegment: string | undefined
    const q = path.indexOf("?")
    const template = q < 0 ? path : path.slice(0, q)
    const filledPath = template.replace(
      paramPattern,
      (_m, brace: string | undefined, slash: string | undefined, colon: string | undefined) => {
        const name = (brace ?? colon)!
        const value = params?.[name]
        const prefix = brace === undefined ? slash! : ""
        if (value === undefined) {
          missing ??= name
          return prefix
        }
        const text = String(value)
        // "." and ".." would be normalized away by URL parsing and climb the path.
        if (text === "" || text === "." || text === "..") dotSegment ??= name
        return prefix + encodeURIComponent(text)
      }
    )
    const filled = q < 0 ? filledPath : filledPath + path.slice(q)
    if (missing !== undefined) {
      return Either.left(
        invalid(method, shownPath, "MissingPathParam", `no value was given for the path parameter "${missing}"`)
      )
    }
    if (filledPath.includes("{") || filledPath.includes("}")) {
      return Either.left(
        invalid(method, shownPath, "InvalidPath", "the path has an unmatched '{' or '}'; placeholders are {name}")
      )
    }
    if (dotSegment !== undefined) {
      return Either.left(
        invalid(
          method,
          shownPath,
          "InvalidPath",
          `the path parameter "${dotSegment}" is empty, "." or "..", which would change the path`
        )
      )
    }
    route = template
    const joined = `${base.origin}${basePath}${filled.startsWith("/") ? filled : "/" + filled}`
    if (query === undefined && plainPath.test(filled) && !dotSegments.test(filled)) {
      return Either.right({ href: joined, shown: joined, route })
    }
    try {
      url = new URL(joined)
    } catch {
      return Either.left(invalid(method, shownPath, "InvalidPath", "the path does not form a valid URL"))
    }
  }
  if (query !== undefined) {
    for (const key in query) {
      const value = query[key]
      if (value === undefined) continue
      if (Array.isArray(value)) { for (const v of value) url.searchParams.append(key, String(v)) }
      else url.searchParams.append(key, String(value))
    }
  }
  return Either.right({ href: url.href, shown: Redaction.url(url), route })
}

export const encodeBody = <B, BI>(
  method: string,
  url: string,
  body: B,
  schema: Schema.Schema<B, BI, never> | undefined
): Either.Either<HttpBody.HttpBody, ApiError.InvalidRequest> => {
  let encoded: unknown = body
  if (schema !== undefined) {
    const result = codec("encode", schema)(body)
    if (Either.isLeft(result)) {
      return Either.left(
        invalid(method, url, "InvalidBody", Redaction.excerpt(ParseResult.TreeFormatter.formatIssueSync(result.left)))
      )
    }
    encoded = result.right
  }
  let json: string | undefined
  try {
    json = JSON.stringify(encoded)
  } catch (e) {
    return Either.left(invalid(method, url, "InvalidBody", `the body cannot be serialized as JSON: ${String(e)}`))
  }
  if (json === undefined) return Either.left(invalid(method, url, "InvalidBody", "the body serializes to nothing"))
  return Either.right(HttpBody.text(json, "application/json"))
}

/** A buffered body, gzipped (`compress: "gzip"`); streams and forms are refused rather than buffered. */
export const gzip = (
  method: string,
  url: string,
  body: HttpBody.HttpBody
): Either.Either<HttpBody.HttpBody, ApiError.InvalidRequest> => {
  const bytes = body._tag === "Uint8Array"
    ? body.body
    : body._tag === "Raw" && typeof body.body === "string"
    ? new TextEncoder().encode(body.body)
    : body._tag === "Raw" && body.body instanceof Uint8Array
    ? body.body
    : undefined
  if (bytes === undefined) {
    return Either.left(
      invalid(
        method,
        url,
        "InvalidBody",
        `compress: "gzip" applies to buffered bodies (JSON, text, bytes), not ${body._tag}`
      )
    )
  }
  const contentType = body._tag === "Empty" ? undefined : body.contentType
  return Either.right(HttpBody.uint8Array(Zlib.gzipSync(bytes), contentType))
}

/**
 * A FormData (files and fields) as a multipart/form-data stream and its content-type with the
 * boundary, serialized by Node's own web `Response` (the fetch implementation bundled with Node),
 * which knows the global FormData that undici 7 cannot serialize. Made anew on each attempt, so a
 * form body can be sent again.
 *
 * @internal
 */
export const multipart = (formData: FormData): {
  readonly body: ReadableStream<Uint8Array>
  readonly contentType: string
} => {
  const response = new globalThis.Response(formData)
  return {
    body: response.body!,
    contentType: response.headers.get("content-type") ?? "multipart/form-data"
  }
}
