/**
 * Writes generated modules under `.generated/<name>` and type-checks them with the TypeScript
 * compiler under the project's strict settings (tsconfig.base.json, as `pnpm typecheck` does), so
 * a test can assert that what the generator emits for a document fragment compiles.
 */
import type * as Generate from "@apikit/openapi/Generate"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const generatedRoot = fileURLToPath(new URL("../../.generated/", import.meta.url))

/** The module's files on disk (for a test to import), replacing what was there. */
export const write = (output: Generate.Output, name: string): string => {
  const out = join(generatedRoot, name)
  rmSync(out, { recursive: true, force: true })
  for (const file of output.files) {
    mkdirSync(dirname(join(out, file.path)), { recursive: true })
    writeFileSync(join(out, file.path), file.content)
  }
  return out
}

/** Writes the modules and returns tsc's diagnostics on them, one line each (empty when they compile). */
export const typecheck = (modules: ReadonlyArray<readonly [Generate.Output, string]>): Array<string> => {
  const fileNames: Array<string> = []
  let options: ts.CompilerOptions | undefined
  const diagnostics: Array<ts.Diagnostic> = []
  for (const [output, name] of modules) {
    const out = write(output, name)
    const config = join(out, "tsconfig.json")
    writeFileSync(
      config,
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
    const parsed = ts.getParsedCommandLineOfConfigFile(config, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => diagnostics.push(d)
    })
    if (parsed === undefined) continue
    diagnostics.push(...parsed.errors)
    fileNames.push(...parsed.fileNames)
    options = parsed.options
  }
  if (options !== undefined) diagnostics.push(...ts.getPreEmitDiagnostics(ts.createProgram(fileNames, options)))
  return diagnostics.map((d) =>
    `${d.file === undefined ? "" : `${d.file.fileName.slice(generatedRoot.length)}: `}${
      ts.flattenDiagnosticMessageText(d.messageText, "\n")
    }`
  )
}
