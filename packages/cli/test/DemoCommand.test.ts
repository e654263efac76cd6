import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { apikit } from "./support/apikit.js"

describe("apikit demo", () => {
  it.live(
    "runs the demo and prints the summary table; exit 0 when every invariant holds",
    () =>
      Effect.gen(function*() {
        const { code, stdout } = yield* apikit([
          "demo",
          "--count",
          "8",
          "--limit",
          "100",
          "--faults",
          "5xx=0.2",
          "--seed",
          "3"
        ])
        expect(stdout).toContain("apikit demo: 8 projects, 20 at a time, against a sandbox limited to 100 req/s")
        expect(stdout).toMatch(/projects created\s+8\/8 ✓/)
        expect(stdout).toMatch(/webhooks verified\s+8\/8 ✓ \(0 rejected\)/)
        expect(stdout).toMatch(/duplicates\s+0 ✓/)
        expect(stdout).toMatch(/max request rate\s+\d+\/s of 100\/s allowed ✓ \(client paced at 66\/s\)/)
        expect(stdout).toContain("all invariants held")
        expect(code).toBe(0)
      }),
    { timeout: 30_000 }
  )

  it.effect("usage errors exit 2 with the reason: faults that do not parse, a count of 0", () =>
    Effect.gen(function*() {
      const faults = yield* apikit(["demo", "--faults", "hang=lots"])
      expect(faults.code).toBe(2)
      expect(faults.stderr).toContain("--faults:")
      const count = yield* apikit(["demo", "--count", "0"])
      expect(count.code).toBe(2)
      expect(count.stderr).toBe("apikit demo: --count must be an integer from 1 to 100000")
    }))
})
