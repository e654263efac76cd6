/**
 * The mapping on small handwritten document fragments: each construct's Schema, and that the
 * module generated for it compiles under the project's strict settings.
 */
import { Document, Generate } from "@apikit/openapi"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { typecheck } from "./support/typecheck.js"

const load = (document: Record<string, unknown>) =>
  Document.load("fragment.json", {
    document: { openapi: "3.0.3", info: { title: "Fragment", version: "1" }, ...document }
  })

const file = (output: Generate.Output, path: string) => output.files.find((f) => f.path === path)!.content

describe("generated modules compile", () => {
  // GitHub's `rate-limit` tag: its one operation names only components, so its group file used no
  // `Schema.` of its own, and the document has no paginated operation in that subset: both made
  // imports `noUnusedLocals` rejects (the one tsc error of `pnpm bench openapi` on GitHub's document).
  it.effect("a group that only names components, and a module with nothing paginated", () =>
    Effect.gen(function*() {
      const doc = yield* load({
        paths: {
          "/rate_limit": {
            get: {
              operationId: "rate-limit/get",
              tags: ["rate-limit"],
              responses: {
                "200": {
                  description: "ok",
                  content: { "application/json": { schema: { $ref: "#/components/schemas/Overview" } } }
                },
                "404": {
                  description: "no",
                  content: { "application/json": { schema: { $ref: "#/components/schemas/Problem" } } }
                }
              }
            }
          }
        },
        components: {
          schemas: {
            Overview: { type: "object", required: ["limit"], properties: { limit: { type: "integer" } } },
            Problem: { type: "object", properties: { message: { type: "string" } } }
          }
        }
      })
      const output = yield* Generate.generate(doc, { name: "fragment" })
      expect(output.paginated).toBe(0)
      expect(file(output, "groups/rateLimit.ts")).not.toMatch(/Schema\.(Struct|String|Number|Int)/)
      expect(typecheck(output, "fragment-unused-imports")).toEqual([])
    }), 120_000)
})
