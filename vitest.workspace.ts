/**
 * The vitest projects of the monorepo: every package, the examples and the
 * reliability suite, each named after its package.json.
 * `vitest.config.ts` passes this list as `test.projects`; every project
 * `extends` it, so the `@apikit/source` resolve condition applies everywhere.
 */
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL(".", import.meta.url))
const dirs = [...readdirSync(`${root}packages`).map((d) => `packages/${d}`), "examples", "reliability"]

export default dirs.map((dir) => ({
  extends: true,
  test: {
    name: (JSON.parse(readFileSync(`${root}${dir}/package.json`, "utf8")) as { name: string }).name,
    root: `${root}${dir}`
  }
}))
