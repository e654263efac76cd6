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
