/**
 * The README walk-through as a test: the Sandbox serves its own OpenAPI document, the generator
 * makes a module from it, and the generated client's first calls work against the running Sandbox
 * (over a real socket on 127.0.0.1, through the pipeline with the document's API-key auth), checked
 * by Conformance against the same document.
 */
import { Auth } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Conformance, Document, Generate } from "@apikit/openapi"
import { Sandbox } from "@apikit/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const out = fileURLToPath(new URL("../.generated/sandbox-test/", import.meta.url))

describe("from the Sandbox's own OpenAPI document to a first working call", () => {
  it.effect("serve, generate, call, conform", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const doc = yield* Document.load(`${sandbox.baseUrl}/openapi.json`, { allowInternalUrls: true })
      expect(doc.paths?.["/v1/projects"]).toBeDefined()
      const output = yield* Generate.generate(doc, { name: "sandbox" })
      expect(output.skipped).toEqual([])
      expect(output.endpoints).toBe(5)
      rmSync(out, { recursive: true, force: true })
      for (const file of output.files) {
        mkdirSync(dirname(join(out, file.path)), { recursive: true })
        writeFileSync(join(out, file.path), file.content)
      }
      const generated = yield* Effect.promise(() => import(join(out, "index.ts")))
      yield* Effect.gen(function*() {
        const api = yield* ApiClient.make({
          baseUrl: generated.baseUrl,
          auth: Auth.apiKey({ header: "X-API-Key", value: Redacted.make(Sandbox.defaultClient.apiKey) })
        })
        // Imported at run time, so untyped here (examples/openapi.ts uses a committed, typed one).
        const client = generated.client(api) as {
          readonly projects: Record<string, (request: unknown) => Effect.Effect<any, any>>
        }
        const created = yield* client.projects["create"]!({ payload: { name: "Apollo" } })
        expect(created.name).toBe("Apollo")
        const got = yield* client.projects["get"]!({ path: { id: created.id } })
        expect(got.id).toBe(created.id)
        const page = yield* client.projects["list"]!({ urlParams: { limit: 10 } })
        expect(page.data.map((p: { name: string }) => p.name)).toContain("Apollo")
        const missing = yield* Effect.flip(client.projects["get"]!({ path: { id: "prj_999" } }))
        expect(missing.message).toContain("prj_999")
        expect(yield* Conformance.violations).toEqual([])
      }).pipe(Effect.provide(Conformance.layer(doc).pipe(Layer.provideMerge(NodeHttpClient.layerUndici))))
    }).pipe(Effect.provide(Sandbox.layer({ seed: 1 })), Effect.scoped), 60_000)
})
