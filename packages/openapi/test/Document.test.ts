import { Document } from "@apikit/openapi"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { fileURLToPath } from "node:url"

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

describe("Document.load", () => {
  it.effect("reads OpenAPI 3.1 YAML and brings $refs to another file into the document", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(fixture("projects.yaml"))
      expect(doc.openapi).toBe("3.1.0")
      // The external User schema is now inside the document; internal refs are kept as refs.
      const project = doc.components!["schemas"]["Project"]
      expect(project.properties.status).toEqual({ $ref: "#/components/schemas/Status" })
      expect(JSON.stringify(doc)).not.toContain("common.yaml")
      expect(JSON.stringify(doc)).toContain(`"login"`)
    }))

  it.effect("converts Swagger 2.0 to OpenAPI 3.0", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(fixture("swagger2.json"))
      expect(doc.openapi).toMatch(/^3\.0\./)
      expect(doc.servers?.[0]?.url).toBe("https://pets.test/api")
      expect(doc.components!["schemas"]["Pet"].properties.tag.nullable).toBe(true)
    }))

  it.effect("applies a JSON Patch before resolving", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(fixture("projects.yaml"), {
        patch: [
          { op: "replace", path: "/servers/0/url", value: "http://127.0.0.1:9999" },
          { op: "add", path: "/components/schemas/Status/enum/-", value: "deleted" }
        ]
      })
      expect(doc.servers?.[0]?.url).toBe("http://127.0.0.1:9999")
      expect(doc.components!["schemas"]["Status"].enum).toEqual(["active", "archived", "deleted"])
    }))

  it.effect("applies OpenAPI Overlays (a YAML file, then an object) before the JSON Patch", () =>
    Effect.gen(function*() {
      const doc = yield* Document.load(fixture("projects.yaml"), {
        overlays: [fixture("overlay.yaml"), {
          overlay: "1.0.0",
          actions: [{ target: "$.paths['/users/me']", remove: true }, { target: "$.info", update: { version: "2.0" } }]
        }],
        // Applies to what the overlays made: the appended enum value is at index 2.
        patch: [{ op: "test", path: "/components/schemas/Status/enum/2", value: "deleted" }]
      })
      expect(doc.servers?.[0]?.url).toBe("http://127.0.0.1:9999")
      expect(doc.components!["schemas"]["Status"].enum).toEqual(["active", "archived", "deleted"])
      expect(doc.paths?.["/projects/{id}/avatar"]).toEqual({})
      expect(doc.paths?.["/users/me"]).toBeUndefined()
      expect(doc.info?.version).toBe("2.0")
      // Merged, not replaced: the property keeps its type.
      expect(doc.paths?.["/projects"].post.requestBody.content["application/json"].schema.properties.name)
        .toEqual({ type: "string", maxLength: 100 })
    }))

  it.effect("an overlay that cannot be applied is a typed error naming the action and why", () =>
    Effect.gen(function*() {
      const fails = (overlay: unknown) =>
        Effect.flip(Document.load(fixture("projects.yaml"), { overlays: [overlay as Document.Overlay] }))
      const version = yield* fails({ overlay: "2.0.0", actions: [] })
      expect(version.reason).toBe("Overlay")
      expect(version.message).toContain("Overlay 1.0.x")
      const path = yield* fails({ overlay: "1.0.0", actions: [{ target: "$.paths[?", remove: true }] })
      expect(path.message).toContain("action 1: $.paths[? is not a JSONPath expression")
      const primitive = yield* fails({
        overlay: "1.0.0",
        actions: [{ target: "$.info", update: { x: 1 } }, { target: "$.info.title", update: "New" }]
      })
      expect(primitive.message).toContain("action 2 ($.info.title) selects a string")
      const neither = yield* fails({ overlay: "1.0.0", actions: [{ target: "$.info" }] })
      expect(neither.message).toContain("neither `update` nor `remove: true`")
      const missing = yield* Effect.flip(Document.load(fixture("projects.yaml"), { overlays: [fixture("nope.yaml")] }))
      expect([missing.reason, missing.source]).toEqual(["Overlay", fixture("nope.yaml")])
    }))

  it.effect("fails with a typed error that says what went wrong", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Document.load(fixture("nope.yaml")))
      expect(missing.reason).toBe("Unreadable")
      expect(missing.message).toContain("nope.yaml")
      const unsupported = yield* Effect.flip(Document.load("x.json", { document: { openapi: "4.0.0" } }))
      expect(unsupported.reason).toBe("Unsupported")
      const badPatch = yield* Effect.flip(
        Document.load(fixture("projects.yaml"), { patch: [{ op: "replace", path: "/nope/deeper", value: 1 }] })
      )
      expect(badPatch.reason).toBe("Patch")
      const badRef = yield* Effect.flip(
        Document.load(fixture("projects.yaml"), {
          patch: [{ op: "replace", path: "/components/schemas/Status", value: { $ref: "./absent.yaml#/X" } }]
        })
      )
      expect(badRef.reason).toBe("Reference")
    }))
})
