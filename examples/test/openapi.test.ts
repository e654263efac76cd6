import { it } from "@effect/vitest"
import { Effect } from "effect"
import { expect } from "vitest"
import { main } from "../openapi.js"

it.effect("openapi: the generated Sandbox client's first calls work against the Sandbox", () =>
  Effect.gen(function*() {
    const { created, listed } = yield* main
    expect(created.name).toBe("Apollo")
    expect(listed).toBeGreaterThanOrEqual(1)
  }), 30_000)
