import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { apikit } from "./support/apikit.js"

const fixture = fileURLToPath(new URL("../../openapi/test/fixtures/projects.yaml", import.meta.url))

describe("apikit generate openapi", () => {
  it.effect(
    "writes the module and a report; --include, --overlay, --patch and --int64 apply",
    () =>
      Effect.gen(function*() {
        const out = mkdtempSync(join(tmpdir(), "apikit-generate-"))
        const patch = join(out, "patch.json")
        writeFileSync(patch, JSON.stringify([{ op: "replace", path: "/servers/0/url", value: "http://127.0.0.1:1" }]))
        const overlay = join(out, "overlay.yaml")
        writeFileSync(
          overlay,
          `overlay: 1.0.0\nactions:\n  - target: $.info\n    update:\n      title: Projects (fixed)\n`
        )
        const { code, stdout } = yield* apikit([
          "generate",
          "openapi",
          fixture,
          "--out",
          join(out, "mod"),
          "--include",
          "projects",
          "--overlay",
          overlay,
          "--patch",
          patch,
          "--int64",
          "bigint"
        ])
        expect(code).toBe(0)
        expect(stdout).toContain("5/5 operations as endpoints")
        expect(existsSync(join(out, "mod/groups/projects.ts"))).toBe(true)
        expect(existsSync(join(out, "mod/groups/users.ts"))).toBe(false)
        expect(readFileSync(join(out, "mod/api.ts"), "utf8")).toContain(`baseUrl = "http://127.0.0.1:1"`)
        expect(readFileSync(join(out, "mod/api.ts"), "utf8")).toContain("The HttpApi of Projects (fixed)")
        expect(readFileSync(join(out, "mod/GENERATED.md"), "utf8")).toContain("5/5 operations as endpoints")
        expect(readFileSync(join(out, "mod/schemas.ts"), "utf8")).toContain(
          "size: Schema.optional(Schema.Union(Schema.BigIntFromNumber, Schema.BigInt))"
        )
      }),
    60_000
  )

  it.effect("an unreadable document exits 1 with a message that names it", () =>
    Effect.gen(function*() {
      const { code, stderr } = yield* apikit(["generate", "openapi", "/nonexistent/api.yaml", "--out", tmpdir()])
      expect(code).toBe(1)
      expect(stderr).toContain("/nonexistent/api.yaml")
    }))
})
