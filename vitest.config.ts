import { defineConfig } from "vitest/config"
import { PlainSummary } from "./vitest.summary.js"
import projects from "./vitest.workspace.js"

/**
 * Inside this repository every `@apikit/*` import resolves to the TypeScript
 * source through the `@apikit/source` export condition (tsconfig's
 * `customConditions` does the same for tsc, `tsx --conditions` for programs),
 * so tests need no build step. Installed packages resolve to `dist/`.
 */
// Vite's default server conditions follow ours.
const conditions = ["@apikit/source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects,
    reporters: ["default", new PlainSummary()]
  }
})
