/**
 * Lazy, typed pagination as `Stream`s: cursor, offset/limit, page number and
 * RFC 8288 `Link` headers. A page is requested only when the stream is pulled
 * (so `Stream.take(10)` sends as few requests as the first ten items need),
 * every page request runs through the ApiClient pipeline (auth, limiter,
 * breaker, retry, timeouts), and errors stay typed.
 *
 * Guard rails: `maxPages` (default 1,000) and detection of a cursor or link
 * that does not advance, both failing with {@link PaginationError} instead of
 * looping forever or silently truncating. A page that names a cursor (or link,
 * or offset) already seen is not emitted: it repeats a page the consumer has.
 *
 * @since 0.1.0
 * @example
 * import { ApiClient, Paginate } from "@apikit/http"
 * import { Effect, Schema, Stream } from "effect"
 *
 * const Page = Schema.Struct({ data: Schema.Array(Schema.String), next_cursor: Schema.NullOr(Schema.String) })
 *
 * const firstHundred = (api: ApiClient.ApiClient) =>
 *   Paginate.cursor(api, "/v1/projects", {
 *     success: Page,
 *     items: (page) => page.data,
 *     next: (page) => page.next_cursor
 *   }).pipe(Stream.take(100), Stream.runCollect)
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import type * as ApiClient from "./ApiClient.js"
import type { ApiError } from "./ApiError.js"
import { paginate } from "./internal/paginate.js"

/**
 * A pagination guard rail was hit: `MaxPagesExceeded` when there are more pages
 * than `maxPages`, `NotAdvancing` when the server returned a cursor (or next
 * link, or offset) it had already returned, which would loop forever.
 *
 * @since 0.1.0
 * @category errors
 */
export class PaginationError extends Schema.TaggedError<PaginationError>()("PaginationError", {
  reason: Schema.Literal("MaxPagesExceeded", "NotAdvancing"),
  route: Schema.String,
  pages: Schema.Number
}) {
  override get message() {
    return this.reason === "MaxPagesExceeded"
      ? `Pagination of ${this.route} stopped after ${this.pages} pages (maxPages); raise maxPages or narrow the query`
      : `Pagination of ${this.route} stopped at page ${this.pages}: the server repeated a cursor it had already sent (does it receive the cursor?); that page was not emitted, and following it would loop forever`
  }
}

/**
 * Options every pagination style shares.
 *
 * @since 0.1.0
 * @category options
 */
export interface CommonOptions<Page, I, A> {
  /** The Schema of one page's body. */
  readonly success: Schema.Schema<Page, I, never>
  /** The items of a page. */
  readonly items: (page: Page) => ReadonlyArray<A>
  /** Fixed query parameters sent with every page request. */
  readonly query?: Readonly<Record<string, ApiClient.QueryValue>> | undefined
  readonly params?: Readonly<Record<string, string | number>> | undefined
  readonly headers?: ApiClient.RequestOptions<Page, I, never, never>["headers"]
  /** Fail with PaginationError after this many pages when there are more (default 1,000). */
  readonly maxPages?: number | undefined
}

const defaultMaxPages = 1000

type Fetch<Page> = (
  path: string,
  query: Readonly<Record<string, ApiClient.QueryValue>>
) => Effect.Effect<ApiClient.Exchange<Page>, ApiError>

const fetcher =
  <Page, I, A>(api: ApiClient.ApiClient, options: CommonOptions<Page, I, A>): Fetch<Page> => (path, query) =>
    api.exchange("GET", path, {
      success: options.success,
      query: { ...options.query, ...query },
      params: options.params,
      headers: options.headers
    })

const drive = <S, Page, I, A>(
  route: string,
  options: CommonOptions<Page, I, A>,
  initial: S,
  key: (state: S) => string,
  step: (state: S) => Effect.Effect<{ readonly page: Page; readonly next: Option.Option<S> }, ApiError>
): Stream.Stream<A, ApiError | PaginationError> =>
  paginate({
    initial,
    key,
    step,
    items: options.items,
    maxPages: options.maxPages ?? defaultMaxPages,
    guard: (reason, pages) => new PaginationError({ reason, route, pages })
  })

const present = (cursor: string | null | undefined): Option.Option<string> =>
  cursor === null || cursor === undefined || cursor === "" ? Option.none() : Option.some(cursor)

/**
 * Cursor pagination: the page body names the next cursor; the stream ends when it is
 * missing, null or empty.
 *
 * @since 0.1.0
 * @category pagination
 */
export const cursor = <Page, I, A>(
  api: ApiClient.ApiClient,
  path: string,
  options: CommonOptions<Page, I, A> & {
    /** The next cursor from a page; null/undefined/"" ends the stream. */
    readonly next: (page: Page) => string | null | undefined
    /** The query parameter that carries the cursor (default "cursor"). */
    readonly cursorParam?: string | undefined
  }
): Stream.Stream<A, ApiError | PaginationError> => {
  const fetch = fetcher(api, options)
  const param = options.cursorParam ?? "cursor"
  return drive<Option.Option<string>, Page, I, A>(
    path,
    options,
    Option.none(),
    (c) => Option.getOrElse(c, () => ""),
    (c) =>
      Effect.map(
        fetch(path, Option.isSome(c) ? { [param]: c.value } : {}),
        ({ value }) => ({ page: value, next: Option.map(present(options.next(value)), Option.some) })
      )
  )
}

/**
 * Offset/limit pagination: requests `pageSize` items at increasing offsets and
 * ends on a short page (or when `total` says everything was read).
 *
 * @since 0.1.0
 * @category pagination
 */
export const offset = <Page, I, A>(
  api: ApiClient.ApiClient,
  path: string,
  options: CommonOptions<Page, I, A> & {
    readonly pageSize: number
    readonly offsetParam?: string | undefined
    readonly limitParam?: string | undefined
    /** The total number of items, when the API reports it. */
    readonly total?: ((page: Page) => number | undefined) | undefined
  }
): Stream.Stream<A, ApiError | PaginationError> => {
  const fetch = fetcher(api, options)
  const offsetParam = options.offsetParam ?? "offset"
  const limitParam = options.limitParam ?? "limit"
  return drive<number, Page, I, A>(
    path,
    options,
    0,
    String,
    (at) =>
      Effect.map(fetch(path, { [offsetParam]: at, [limitParam]: options.pageSize }), ({ value }) => {
        const count = options.items(value).length
        const total = options.total?.(value)
        const done = count < options.pageSize || (total !== undefined && at + count >= total)
        return { page: value, next: done ? Option.none() : Option.some(at + count) }
      })
  )
}

/**
 * Page-number pagination: requests pages `start`, `start + 1`, ... and ends on an
 * empty page (or a short one when `pageSize` is given, or at `totalPages`).
 *
 * @since 0.1.0
 * @category pagination
 */
export const pageNumber = <Page, I, A>(
  api: ApiClient.ApiClient,
  path: string,
  options: CommonOptions<Page, I, A> & {
    readonly pageParam?: string | undefined
    /** The first page number (default 1). */
    readonly start?: number | undefined
    readonly pageSize?: number | undefined
    readonly sizeParam?: string | undefined
    readonly totalPages?: ((page: Page) => number | undefined) | undefined
  }
): Stream.Stream<A, ApiError | PaginationError> => {
  const fetch = fetcher(api, options)
  const pageParam = options.pageParam ?? "page"
  const size = options.pageSize
  return drive<number, Page, I, A>(path, options, options.start ?? 1, String, (n) =>
    Effect.map(
      fetch(
        path,
        size === undefined ? { [pageParam]: n } : { [pageParam]: n, [options.sizeParam ?? "per_page"]: size }
      ),
      ({ value }) => {
        const count = options.items(value).length
        const totalPages = options.totalPages?.(value)
        const done = count === 0 || (size !== undefined && count < size) ||
          (totalPages !== undefined && n >= totalPages)
        return { page: value, next: done ? Option.none() : Option.some(n + 1) }
      }
    ))
}

/**
 * The target of the `Link` relation `rel` (RFC 8288), resolved against `base`.
 * Handles several links per header, quoted and unquoted `rel`, and several
 * relation types in one `rel`. Returns `undefined` when there is none.
 *
 * @since 0.1.0
 * @category parsing
 */
export const linkTarget = (header: string | undefined, rel: string, base: string): string | undefined => {
  if (header === undefined) return undefined
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"[^"]*"|[^;,]*))?)*)/g
  for (const m of header.matchAll(pattern)) {
    const params = m[2]!
    const relMatch = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params)
    const rels = (relMatch?.[1] ?? relMatch?.[2] ?? "").toLowerCase().split(/\s+/)
    if (rels.includes(rel.toLowerCase())) {
      try {
        return new URL(m[1]!, base).toString()
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

/**
 * Link-header pagination (GitHub style): follows `Link: <...>; rel="next"` until
 * there is none. Links must stay on the API's origin (the ApiClient refuses others).
 *
 * @since 0.1.0
 * @category pagination
 */
export const link = <Page, I, A>(
  api: ApiClient.ApiClient,
  path: string,
  options: CommonOptions<Page, I, A> & {
    /** The relation to follow (default "next"). */
    readonly rel?: string | undefined
  }
): Stream.Stream<A, ApiError | PaginationError> => {
  const fetch = fetcher(api, options)
  const rel = options.rel ?? "next"
  // Relative links resolve against the first page's URL (its template is enough for that).
  const firstUrl = new URL(`${api.baseUrl.pathname.replace(/\/+$/, "")}${path}`, api.baseUrl).toString()
  // The first request uses the path and fixed query; later ones the link exactly as given.
  return drive<string, Page, I, A>(path, options, path, (target) => target, (target) => {
    const first = target === path
    const request = first ? fetch(path, {}) : api.exchange("GET", target, {
      success: options.success,
      headers: options.headers
    })
    return Effect.map(request, (exchange) => {
      const next = linkTarget(exchange.headers["link"], rel, first ? firstUrl : target)
      return { page: exchange.value, next: next === undefined ? Option.none() : Option.some(next) }
    })
  })
}
