/**
 * Following redirects inside an attempt, by the client's `redirects` policy,
 * and what a redirect to another origin may carry: only the call's own
 * headers that are not credentials. What the auth policy stamped (any header,
 * any query parameter), headers given as `Redacted`, `authorization`,
 * `cookie` and `proxy-authorization` stay behind.
 *
 * @internal
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Policy from "../Policy.js"
import * as Redaction from "../Redaction.js"

/** The resolved redirect policy of a client. @internal */
export interface Redirects {
  readonly follow: boolean
  readonly limit: number
  readonly crossOrigin: boolean
}

/** The call's own headers (before any policy stamped its own) and which of them are secret. @internal */
export interface CallHeaders {
  readonly headers: Headers.Headers
  readonly secret: ReadonlySet<string>
}

/** Where ApiClient keeps the {@link CallHeaders} on a call's context (copied along when policies spread it). @internal */
export const callHeaders: unique symbol = Symbol.for("@apikit/http/callHeaders")

const isRedirect = (status: number) =>
  status === 301 || status === 302 || status === 303 || status === 307 || status === 308

const alwaysSecret = ["authorization", "cookie", "proxy-authorization"]

/** What to do with a response. @internal */
export type Decision =
  | { readonly _tag: "NotRedirect" }
  | { readonly _tag: "Follow"; readonly request: HttpClientRequest.HttpClientRequest }
  | { readonly _tag: "Stop"; readonly location: string; readonly reason: string }

const notRedirect: Decision = { _tag: "NotRedirect" }

/** @internal */
export const decide = (
  status: number,
  headers: Headers.Headers,
  request: HttpClientRequest.HttpClientRequest,
  context: Policy.CallContext,
  redirects: Redirects,
  hops: number
): Decision => {
  const location = headers["location"]
  if (!isRedirect(status) || location === undefined) return notRedirect
  let from: URL
  let target: URL
  try {
    from = new URL(request.url)
    target = new URL(location, from)
  } catch {
    return { _tag: "Stop", location: Redaction.excerpt(location, 200), reason: "the Location does not parse" }
  }
  const shown = Redaction.url(target)
  const stop = (reason: string): Decision => ({ _tag: "Stop", location: shown, reason })
  if (!redirects.follow) return stop("this client follows no redirects (redirects.follow is false)")
  if (hops >= redirects.limit) return stop(`more than ${redirects.limit} redirects in a row`)
  if (target.protocol !== "http:" && target.protocol !== "https:") return stop(`${target.protocol} is not http(s)`)
  const method = request.method
  const safe = method === "GET" || method === "HEAD"
  if ((status === 301 || status === 302) && !safe) {
    return stop(`only GET and HEAD follow a ${status}; a ${method} is not turned into another request`)
  }
  if ((status === 307 || status === 308) && !safe && !context.replayable) {
    return stop("the request body is a stream and cannot be sent again")
  }
  const sameOrigin = target.origin === from.origin
  if (!sameOrigin && !redirects.crossOrigin) {
    return stop(
      `it leads to another origin (${target.origin}); set redirects.crossOrigin to follow it without credentials`
    )
  }
  const asGet = status === 303 && method !== "HEAD"
  let next: HttpClientRequest.HttpClientRequest
  if (sameOrigin) {
    next = HttpClientRequest.setUrl(request, target.href)
  } else {
    // Only the call's own headers that are not credentials; no query parameter a policy added.
    const own = (context as { readonly [callHeaders]?: CallHeaders })[callHeaders]
    let headers = own?.headers ?? Headers.empty
    headers = Headers.remove(headers, [...alwaysSecret, ...(own?.secret ?? [])])
    next = HttpClientRequest.make(method)(target.href, { headers, body: request.body })
  }
  if (asGet) {
    next = HttpClientRequest.setBody(HttpClientRequest.setMethod(next, "GET"), HttpBody.empty)
    next = HttpClientRequest.setHeaders(
      next,
      Headers.remove(next.headers, ["content-type", "content-length", "content-encoding"])
    )
  }
  return { _tag: "Follow", request: next }
}
