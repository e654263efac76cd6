/**
 * Transpiles every package's src/ to build/js/ (plain ESM, no bundling), so
 * `pnpm bench` measures apikit as a published build runs it, not through tsx:
 * tsx compiles with esbuild's keepNames, which wraps every function made at
 * run time in a `__name` call (Object.defineProperty), measured at ~10% of
 * the client's CPU per request. The benchmarks resolve `@apikit/*` to this
 * output through the `apikit-compiled` export condition; everything else
 * (tests, examples, the CLI) keeps running the TypeScript sources.
 */
import { build } from "esbuild"
import { readdirSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const packages = fileURLToPath(new URL("../packages/", import.meta.url))

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(`${dir}/${entry.name}`)
      : entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")
      ? [`${dir}/${entry.name}`]
      : []
  )

for (const name of readdirSync(packages)) {
  const root = `${packages}${name}`
  rmSync(`${root}/build/js`, { recursive: true, force: true })
  await build({
    entryPoints: sources(`${root}/src`),
    outdir: `${root}/build/js`,
    outbase: `${root}/src`,
    format: "esm",
    platform: "node",
    target: "node20",
    bundle: false,
    sourcemap: false,
    logLevel: "warning"
  })
}
