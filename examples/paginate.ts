/**
 * paginate: every page of a list endpoint as one lazy Stream.
 *
 * The Sandbox lists projects with cursor pagination (`next_cursor` in the body)
 * and also sends a `Link: <...>; rel="next"` header. `Paginate.cursor` and
 * `Paginate.link` turn either into a Stream of items; each page request runs
 * through the ApiClient pipeline. Streams are pulled, not pushed:
 * `Stream.take(3)` stops after the pages it needs, and the server's request
 * count shows the rest were never fetched.
 *
 * Run it: `pnpm example paginate`.
 */
import { ApiClient, Paginate } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Sandbox } from "@apikit/testing"
import { Chunk, Console, Effect, Layer, Redacted, Schema, Stream } from "effect"

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
const Page = Schema.Struct({ data: Schema.Array(Project), next_cursor: Schema.NullOr(Schema.String) })

const names = <E>(stream: Stream.Stream<typeof Project.Type, E>) =>
  Effect.map(Stream.runCollect(Stream.map(stream, (p) => p.name)), (c) => Chunk.toReadonlyArray(c).join(", "))

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: `${sandbox.baseUrl}/v1`,
    headers: { "x-api-key": Redacted.make(Sandbox.defaultClient.apiKey) }
  })
  for (const name of ["Apollo", "Gemini", "Mercury", "Skylab", "Voyager", "Pioneer", "Viking"]) {
    yield* api.post("/projects", { body: { name }, idempotencyKey: true })
  }
  const requests = Effect.map(sandbox.stats, (s) => s.requests)

  // Cursor in the body: 7 projects, 2 per page, 4 requests.
  const byCursor = Paginate.cursor(api, "/projects", {
    success: Page,
    items: (page) => page.data,
    next: (page) => page.next_cursor,
    query: { limit: 2 }
  })
  // The Link header, RFC 8288 style (GitHub's): 3 per page.
  const byLink = Paginate.link(api, "/projects", { success: Page, items: (page) => page.data, query: { limit: 3 } })

  const lines: Array<string> = []
  let before = yield* requests
  lines.push(`cursor: ${yield* names(byCursor)} (${(yield* requests) - before} requests)`)
  before = yield* requests
  lines.push(`link:   ${yield* names(byLink)} (${(yield* requests) - before} requests)`)
  before = yield* requests
  lines.push(`first 3 by cursor: ${yield* names(Stream.take(byCursor, 3))} (${(yield* requests) - before} requests)`)

  yield* Console.log(`apikit paginate against ${sandbox.baseUrl}`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

export const main = program.pipe(
  Effect.provide(Layer.merge(Sandbox.layer({ rateLimit: false }), UndiciHttpClient.layer))
)
