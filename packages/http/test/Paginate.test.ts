import { ApiClient, Paginate, Policy } from "@apikit/http"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"

const CursorPage = Schema.Struct({ data: Schema.Array(Schema.Number), next_cursor: Schema.NullOr(Schema.String) })
const ListPage = Schema.Struct({ items: Schema.Array(Schema.Number), total: Schema.optional(Schema.Number) })
const Items = Schema.Array(Schema.Number)

const base = "https://api.example.com/v1"
const make = (options: Partial<ApiClient.Options> = {}) => ApiClient.make({ baseUrl: base, ...options })
const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/** 25 items served 10 at a time, by cursor "c10", "c20". */
const cursorRoute = MockHttp.get("/v1/projects", (req) => {
  const from = Number((req.url.searchParams.get("cursor") ?? "c0").slice(1))
  const data = Array.from({ length: Math.max(0, Math.min(10, 25 - from)) }, (_, i) => from + i)
  return MockHttp.json(200, { data, next_cursor: from + 10 < 25 ? `c${from + 10}` : null })
})

describe("Paginate", () => {
  it.effect("cursor: walks every page and stops at a null cursor", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const items = yield* collect(Paginate.cursor(api, "/projects", {
        success: CursorPage,
        items: (p) => p.data,
        next: (p) => p.next_cursor,
        query: { limit: 10 }
      }))
      expect(items).toEqual(Array.from({ length: 25 }, (_, i) => i))
      const sent = yield* MockHttp.requests
      expect(sent.map((r) => r.url.search)).toEqual(["?limit=10", "?limit=10&cursor=c10", "?limit=10&cursor=c20"])
    }).pipe(Effect.provide(MockHttp.layer([cursorRoute]))))

  it.effect("Stream.take stops early without fetching further pages", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const items = yield* collect(
        Paginate.cursor(api, "/projects", { success: CursorPage, items: (p) => p.data, next: (p) => p.next_cursor })
          .pipe(Stream.take(12))
      )
      expect(items).toHaveLength(12)
      expect(yield* MockHttp.count()).toBe(2)
      const none = yield* collect(
        Paginate.cursor(api, "/projects", { success: CursorPage, items: (p) => p.data, next: (p) => p.next_cursor })
          .pipe(Stream.take(0))
      )
      expect(none).toEqual([])
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer([cursorRoute]))))

  it.effect("an empty first page is an empty stream", () =>
    Effect.gen(function*() {
      const api = yield* make()
      expect(
        yield* collect(Paginate.cursor(api, "/empty", {
          success: CursorPage,
          items: (p) => p.data,
          next: (p) => p.next_cursor
        }))
      ).toEqual([])
      expect(yield* collect(Paginate.pageNumber(api, "/empty-list", { success: Items, items: (p) => p }))).toEqual([])
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/empty", MockHttp.json(200, { data: [], next_cursor: null })),
      MockHttp.get("/v1/empty-list", MockHttp.json(200, []))
    ]))))

  it.effect("a repeated cursor fails with NotAdvancing without emitting the page that repeated it", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const seen: Array<number> = []
      const error = yield* Paginate.cursor(api, "/stuck", {
        success: CursorPage,
        items: (p) => p.data,
        next: (p) => p.next_cursor
      }).pipe(Stream.runForEach((n) => Effect.sync(() => seen.push(n))), Effect.flip)
      expect(error._tag).toBe("PaginationError")
      expect(error._tag === "PaginationError" && error.reason).toBe("NotAdvancing")
      expect(seen).toEqual([1, 2])
      expect(error.message).toContain("not emitted")
      expect(yield* MockHttp.count()).toBe(3)
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get(
        "/v1/stuck",
        MockHttp.sequence(
          MockHttp.json(200, { data: [1], next_cursor: "a" }),
          MockHttp.json(200, { data: [2], next_cursor: "b" }),
          MockHttp.json(200, { data: [3], next_cursor: "a" })
        )
      )
    ]))))

  it.effect("a server that ignores the cursor: the repeated first page never reaches the consumer", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const seen: Array<number> = []
      const error = yield* Paginate.cursor(api, "/projects", {
        success: CursorPage,
        items: (p) => p.data,
        next: (p) => p.next_cursor,
        cursorParam: "page_token" // the server reads "cursor": every page is the first one
      }).pipe(Stream.runForEach((n) => Effect.sync(() => seen.push(n))), Effect.flip)
      expect(error._tag === "PaginationError" && error.reason).toBe("NotAdvancing")
      // The old driver emitted the first page twice (20 items, 10 distinct) before failing.
      expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => i))
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer([cursorRoute]))))

  it.effect("maxPages fails with MaxPagesExceeded instead of truncating silently", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const error = yield* collect(Paginate.cursor(api, "/projects", {
        success: CursorPage,
        items: (p) => p.data,
        next: (p) => p.next_cursor,
        maxPages: 2
      })).pipe(Effect.flip)
      expect(error._tag === "PaginationError" && error.reason).toBe("MaxPagesExceeded")
      expect(yield* MockHttp.count()).toBe(2)
    }).pipe(Effect.provide(MockHttp.layer([cursorRoute]))))

  it.effect("a failure mid-stream is retried by the pipeline and the stream goes on", () =>
    Effect.gen(function*() {
      const retryOnce = Policy.make("retry", "retry-once", (next) => (request, context) =>
        Effect.catchTag(next(request, context), "ServerError", () =>
          next(request, { ...context, attempt: 2 })))
      const api = yield* make({ retry: retryOnce })
      const items = yield* collect(
        Paginate.offset(api, "/list", {
          success: ListPage,
          items: (p) =>
            p.items,
          pageSize: 2
        })
      )
      expect(items).toEqual([0, 1, 2, 3, 4])
      const sent = yield* MockHttp.requests
      expect(sent.map((r) =>
        r.url.search
      )).toEqual([
        "?offset=0&limit=2",
        "?offset=2&limit=2",
        "?offset=2&limit=2",
        "?offset=4&limit=2"
      ])
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get(
        "/v1/list",
        MockHttp.sequence(
          MockHttp.json(200, { items: [0, 1] }),
          MockHttp.status(503),
          MockHttp.json(200, { items: [2, 3] }),
          MockHttp.json(200, { items: [4] })
        )
      )
    ]))))

  it.effect("a failure that is not retried ends the stream with the typed error", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const error = yield* collect(
        Paginate.offset(api, "/list", { success: ListPage, items: (p) => p.items, pageSize: 2 })
      ).pipe(Effect.flip)
      expect(error._tag).toBe("Forbidden")
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/list", MockHttp.sequence(MockHttp.json(200, { items: [0, 1] }), MockHttp.status(403)))
    ]))))

  it.effect("offset: stops at total without requesting an empty page", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const items = yield* collect(Paginate.offset(api, "/list", {
        success: ListPage,
        items: (p) => p.items,
        pageSize: 2,
        total: (p) => p.total,
        offsetParam: "skip",
        limitParam: "take"
      }))
      expect(items).toEqual([0, 1, 2, 3])
      expect((yield* MockHttp.requests).map((r) => r.url.search)).toEqual(["?skip=0&take=2", "?skip=2&take=2"])
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/list", (req) => {
        const skip = Number(req.url.searchParams.get("skip"))
        return MockHttp.json(200, { items: [skip, skip + 1], total: 4 })
      })
    ]))))

  it.effect("page number: counts pages from start and ends on an empty page", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const items = yield* collect(Paginate.pageNumber(api, "/pages", { success: Items, items: (p) => p, start: 0 }))
      expect(items).toEqual([0, 1])
      expect((yield* MockHttp.requests).map((r) => r.url.search)).toEqual(["?page=0", "?page=1", "?page=2"])
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/pages", (req) => {
        const page = Number(req.url.searchParams.get("page"))
        return MockHttp.json(200, page < 2 ? [page] : [])
      })
    ]))))

  it.effect("Link header: follows rel=\"next\" (absolute and relative) until the last page has none", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const items = yield* collect(
        Paginate.link(api, "/repos/:owner/issues", { success: Items, items: (p) => p, params: { owner: "effect" } })
      )
      expect(items).toEqual([1, 2, 3])
      expect((yield* MockHttp.requests).map((r) => r.url.pathname + r.url.search)).toEqual([
        "/v1/repos/effect/issues",
        "/v1/repos/effect/issues",
        "/v1/repos/effect/issues"
      ].map((p, i) => i === 0 ? p : `${p}?page=${i + 1}`))
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get("/v1/repos/:owner/issues", (req) => {
        const page = Number(req.url.searchParams.get("page") ?? "1")
        const links = page === 1
          ? `<https://api.example.com/v1/repos/effect/issues?page=2>; rel="next", <https://api.example.com/v1/repos/effect/issues?page=3>; rel="last"`
          : page === 2
          ? `</v1/repos/effect/issues?page=1>; rel=prev, </v1/repos/effect/issues?page=3>; rel="next last"`
          : `</v1/repos/effect/issues?page=2>; rel="prev"`
        return MockHttp.json(200, [page], { link: links })
      })
    ]))))

  it.effect("Link header: a next link to another origin is refused, not followed", () =>
    Effect.gen(function*() {
      const api = yield* make()
      const error = yield* collect(Paginate.link(api, "/items", { success: Items, items: (p) => p })).pipe(Effect.flip)
      expect(error._tag === "InvalidRequest" && error.reason).toBe("CrossOrigin")
      expect(yield* MockHttp.count()).toBe(1)
    }).pipe(Effect.provide(MockHttp.layer([
      MockHttp.get(
        "/v1/items",
        MockHttp.json(200, [1], { link: "<https://evil.example.org/items?page=2>; rel=\"next\"" })
      )
    ]))))

  it("linkTarget parses RFC 8288 forms", () => {
    const base = "https://x.test/a/b?page=1"
    expect(Paginate.linkTarget(undefined, "next", base)).toBeUndefined()
    expect(Paginate.linkTarget("<?page=2>; rel=\"next\"", "next", base)).toBe("https://x.test/a/b?page=2")
    expect(Paginate.linkTarget("<c>; title=\"x, y\"; rel=NEXT", "next", base)).toBe("https://x.test/a/c")
    expect(Paginate.linkTarget("<https://x.test/z>; rel=\"prev\"", "next", base)).toBeUndefined()
    expect(Paginate.linkTarget("garbage", "next", base)).toBeUndefined()
  })
})
