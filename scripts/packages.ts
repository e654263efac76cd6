/**
 * One place for how every publishable package is shaped: `pnpm packages` writes
 * each `packages/*` package.json's publishing fields, its `tsconfig.build.json`
 * and its LICENSE from the rules below; `pnpm packages --check` (part of
 * `pnpm lint`) fails when any of them has drifted, for example a new public
 * module in `src/` that is not in `exports` yet.
 *
 * The rules:
 * - one `exports` entry per public module (`src/*.ts`), each with the `@apikit/source` condition first (the
 *   TypeScript source, used inside this repository by tsc, vitest and tsx),
 *   then `types` and `default` (the build in `dist/`, what an installed
 *   package runs); `src/internal/*` only under `@apikit/source`, so tests
 *   in this repository can reach internal modules and installed packages
 *   cannot;
 * - `main`/`types` for resolvers that do not read `exports`;
 * - `files`: the build, the sources its source maps point at, README,
 *   CHANGELOG and LICENSE, nothing else;
 * - `docgen.json`: the API reference (`pnpm docs`, @effect/docgen) of the public
 *   modules, into the package's `docs/` (git-ignored); every `@example` is
 *   type-checked against the sources (`@apikit/source`) under the repository's
 *   strict options, and run;
 * - `tsconfig.build.json` references the build of every `@apikit/*`
 *   dependency, so `tsc -b` builds packages in dependency order and each one
 *   compiles against its dependencies' declarations, as an app would; the
 *   root `tsconfig.build.json` (`pnpm build`) references every package.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const check = process.argv.includes("--check")
const sourceCondition = "@apikit/source"

const publishing = (dir: string, pkg: Record<string, any>) => {
  const modules = readdirSync(`${root}packages/${dir}/src`)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => f.slice(0, -3))
    .sort()
  const entry = (name: string) => ({
    [sourceCondition]: `./src/${name}.ts`,
    types: `./dist/${name}.d.ts`,
    default: `./dist/${name}.js`
  })
  const exports: Record<string, unknown> = { "./package.json": "./package.json" }
  if (modules.includes("index")) exports["."] = entry("index")
  for (const name of modules) if (name !== "index" && name !== "bin") exports[`./${name}`] = entry(name)
  // Tests inside the repository may reach internal modules; an installed package has no such export.
  if (existsSync(`${root}packages/${dir}/src/internal`)) {
    exports["./internal/*"] = { [sourceCondition]: "./src/internal/*.ts" }
  }
  return {
    license: "MIT",
    repository: { type: "git", url: "git+https://github.com/apikit/apikit.git", directory: `packages/${dir}` },
    homepage: `https://github.com/apikit/apikit/tree/main/packages/${dir}`,
    type: "module",
    sideEffects: false,
    engines: { node: ">=20.19" },
    main: "./dist/index.js",
    types: "./dist/index.d.ts",
    exports,
    ...(pkg.bin === undefined ? {} : { bin: { apikit: "./dist/bin.js" } }),
    files: [
      "dist/**/*.js",
      "dist/**/*.js.map",
      "dist/**/*.d.ts",
      "dist/**/*.d.ts.map",
      "src",
      "README.md",
      "CHANGELOG.md",
      "LICENSE"
    ],
    publishConfig: { access: "public" },
    scripts: { build: "tsc -b tsconfig.build.json", prepack: "tsc -b tsconfig.build.json" }
  }
}

const buildConfig = (pkg: Record<string, any>) => {
  const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })
    .filter((d) => d.startsWith("@apikit/"))
    .sort()
  return {
    extends: "../../tsconfig.base.json",
    include: ["src"],
    references: deps.map((d) => ({ path: `../${d.slice("@apikit/".length)}/tsconfig.build.json` })),
    compilerOptions: {
      rootDir: "src",
      outDir: "dist",
      tsBuildInfoFile: "dist/.tsbuildinfo",
      // Resolve other @apikit packages to their built declarations, as an installed app does.
      customConditions: [],
      emitDeclarationOnly: false,
      sourceMap: true
    }
  }
}

const docgenConfig = () => ({
  $schema: "../../node_modules/@effect/docgen/schema.json",
  // The public modules are src/*.ts; subfolders (internal/, ...) are implementation.
  exclude: ["src/*/**/*.ts", "src/bin.ts"],
  // The examples land in docs/examples; they import other packages' sources, as tests do.
  examplesCompilerOptions: {
    noEmit: true,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    moduleResolution: "Bundler",
    module: "ESNext",
    target: "ES2022",
    lib: ["ES2022", "DOM", "DOM.Iterable"],
    types: ["node"],
    customConditions: ["@apikit/source"]
  }
})

const drift: Array<string> = []
const write = (file: string, text: string) => {
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined
  if (current === text) return
  if (check) drift.push(file.slice(root.length))
  else writeFileSync(file, text)
}
const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n"

const license = readFileSync(`${root}LICENSE`, "utf8")
const published: Array<string> = []
for (const dir of readdirSync(`${root}packages`).sort()) {
  const file = `${root}packages/${dir}/package.json`
  if (!existsSync(file)) continue
  const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, any>
  if (pkg.private === true) continue
  published.push(dir)
  // Keep the hand-written fields (name, version, description, dependencies) in their place;
  // the publishing fields follow them in a fixed order.
  const { name, version, description, ...rest } = pkg
  const generated = publishing(dir, pkg)
  const own = Object.fromEntries(Object.entries(rest).filter(([k]) => !(k in generated)))
  write(file, json({ name, version, description, ...generated, ...own }))
  write(`${root}packages/${dir}/tsconfig.build.json`, json(buildConfig(pkg)))
  write(`${root}packages/${dir}/docgen.json`, json(docgenConfig()))
  write(`${root}packages/${dir}/LICENSE`, license)
}

write(
  `${root}tsconfig.build.json`,
  json({ files: [], references: published.map((dir) => ({ path: `packages/${dir}/tsconfig.build.json` })) })
)

if (drift.length > 0) {
  console.error(`Out of date (run \`pnpm packages\` and commit the result):\n  ${drift.join("\n  ")}`)
  process.exitCode = 1
}
