import { defineConfig } from "vitest/config"
import { PlainSummary } from "./vitest.summary.js"
import projects from "./vitest.workspace.js"

export default defineConfig({
  test: {
    projects,
    reporters: ["default", new PlainSummary()]
  }
})
