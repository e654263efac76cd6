/**
 * `apikit generate openapi` on GitHub's REST document (@octokit/openapi, 1,223 operations):
 * reading and bundling it, generating the module, the module's size, and how long `tsc`
 * takes to type-check the whole output under the project's strict settings (a separate
 * process, wall and CPU time). No peer generator is installed here, so no ratio is given.
 */
import * as Document from "@apikit/openapi/Document"
import * as Generate from "@apikit/openapi/Generate"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const openapiPackage = fileURLToPath(new URL("../packages/openapi/", import.meta.url))
const out = join(openapiPackage, ".generated", "bench-github")

export const run = async (): Promise<string> => {
  const source = require.resolve("@octokit/openapi/generated/api.github.com.json", {
    paths: [openapiPackage]
  })
  const t0 = performance.now()
  const doc = await Effect.runPromise(Document.load(source))
  const t1 = performance.now()
  const output = await Effect.runPromise(Generate.generate(doc, { name: "github" }))
  const t2 = performance.now()
  rmSync(out, { recursive: true, force: true })
  let bytes = 0
  for (const file of output.files) {
    mkdirSync(dirname(join(out, file.path)), { recursive: true })
    writeFileSync(join(out, file.path), file.content)
    bytes += Buffer.byteLength(file.content)
  }
  writeFileSync(
    join(out, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../../tsconfig.base.json",
      compilerOptions: {
        noEmit: true,
        composite: false,
        incremental: false,
        declaration: false,
        declarationMap: false,
        emitDeclarationOnly: false
      },
      include: ["**/*.ts"]
    })
  )
  const tsc = require.resolve("typescript/bin/tsc")
  const t3 = performance.now()
  const checked = spawnSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json"), "--extendedDiagnostics"], {
    encoding: "utf8"
  })
  const t4 = performance.now()
  const diag = checked.stdout
  const field = (name: string) => new RegExp(`${name}:\\s+([\\d.]+\\w*)`).exec(diag)?.[1] ?? "?"
  const errors = (diag.match(/error TS/g) ?? []).length
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  return [
    "## openapi: generating GitHub's REST document",
    "",
    `${output.endpoints}/${output.operations} operations, ${output.schemas} schemas, ${output.paginated} paginated, ${output.webhooks} webhook events, ${output.skipped.length} skipped`,
    "",
    "| step | figure |",
    "| --- | --- |",
    `| read + bundle (swagger-parser) | ${s(t1 - t0)} |`,
    `| generate | ${s(t2 - t1)} |`,
    `| output | ${output.files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB |`,
    `| tsc --noEmit on the output (wall) | ${s(t4 - t3)} |`,
    `| tsc check time / memory (its own report) | ${field("Check time")} / ${field("Memory used")} |`,
    `| tsc errors | ${errors} (exit ${checked.status}) |`,
    "",
    ...diag.split("\n").filter((l) => l.includes("error TS")).slice(0, 5).map((l) => `    ${l.slice(0, 300)}`),
    ""
  ].join("\n")
}
