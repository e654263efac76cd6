import * as Demo from "@apikit/cli/Demo"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Capture, Sandbox } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, LogLevel } from "effect"

// The demo runs on a real socket and the live clock: a high server limit keeps
// pacing short, so a run takes about a second. Assertions are on invariants and
// counts, never on timings.
const small: Demo.Options = {
  count: 30,
  concurrency: 10,
  limit: 100,
  seed: 7,
  faults: { errorRate: 0.1, resetRate: 0.15, resetAfterProcessing: 1, burstRate: 0.02, burstLength: 2 }
}

describe("Demo.run", () => {
  it.live(
    "creates every project exactly once through faults, verifies every webhook, stays under the limit",
    () =>
      Effect.gen(function*() {
        const progress: Array<Demo.Progress> = []
        const summary = yield* Demo.run({ ...small, onProgress: (p) => Effect.sync(() => progress.push(p)) })
        expect(summary.violations).toEqual([])
        expect(summary.created).toBe(30)
        expect(summary.failures).toEqual({})
        expect(summary.duplicates).toBe(0)
        expect(summary.server.projectsCreated).toBe(30)
        // Faults happened and were retried with the same idempotency key.
        expect(summary.server.faults.errors + summary.server.faults.resets).toBeGreaterThan(0)
        expect(summary.retries).toBeGreaterThan(0)
        expect(summary.attempts).toBe(summary.created + summary.retries)
        // Resets after processing were answered from the idempotency record, not created again.
        expect(summary.server.idempotentReplays).toBeGreaterThan(0)
        expect(summary.faultsSeen.serverErrors).toBeLessThanOrEqual(summary.server.faults.errors)
        expect(summary.webhooks).toEqual({ verified: 30, rejected: 0, missing: 0 })
        expect(summary.maxRate).toBeLessThanOrEqual(summary.limit)
        expect(summary.clientLimit).toBe(66)
        expect(summary.tokenRequests).toBeGreaterThanOrEqual(1)
        expect(progress).toHaveLength(30)
        expect(progress.at(-1)).toMatchObject({ total: 30, created: 30, failed: 0 })
      }).pipe(Effect.provide(UndiciHttpClient.layer)),
    { timeout: 30_000 }
  )

  it.live(
    "no secret reaches a log line or span: client secret, bearer token, webhook secret",
    () =>
      Effect.gen(function*() {
        const summary = yield* Demo.run({ ...small, count: 5, faults: {} })
        expect(summary.violations).toEqual([])
        const capture = yield* Capture.Capture
        const dump = capture.dump()
        expect(capture.spans.length).toBeGreaterThan(0)
        expect(dump).not.toContain(Sandbox.defaultClient.clientSecret)
        expect(dump).not.toContain("whsec_")
        expect(dump).not.toMatch(/Bearer [A-Za-z0-9]/)
      }).pipe(
        Effect.provide(Layer.merge(UndiciHttpClient.layer, Capture.layer)),
        Logger.withMinimumLogLevel(LogLevel.All)
      ),
    { timeout: 30_000 }
  )

  it.effect("bad options are a typed error, before anything starts", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Demo.run({ count: 0 }))
      expect(exit).toStrictEqual(
        Exit.fail(new Demo.InvalidDemoOptions({ detail: "--count must be an integer from 1 to 100000" }))
      )
      const concurrency = yield* Effect.flip(Demo.run({ concurrency: 1.5 }))
      expect(concurrency.message).toBe("apikit demo: --concurrency must be an integer from 1 to 1000")
    }).pipe(Effect.provide(UndiciHttpClient.layer)))
})

describe("Demo.violations and Demo.check", () => {
  const good: Omit<Demo.Summary, "violations"> = {
    count: 3,
    concurrency: 1,
    created: 3,
    failures: {},
    attempts: 4,
    retries: 1,
    tokenRequests: 1,
    rateLimited: 0,
    faultsSeen: { serverErrors: 1, transportErrors: 0, timedOut: 0 },
    breakerTransitions: [],
    webhooks: { verified: 3, rejected: 0, missing: 0 },
    duplicates: 0,
    maxRate: 20,
    limit: 20,
    clientLimit: 13,
    server: {
      requests: 5,
      rateLimited: 0,
      maxRequestRate: { "sandbox-client": 20 },
      tokensIssued: 1,
      projectsCreated: 3,
      duplicates: 0,
      idempotentReplays: 0,
      faults: { errors: 1, resets: 0, hangs: 0, delayed: 0, bursts: 0 },
      webhooks: { delivered: 3, failedAttempts: 0, abandoned: 0 }
    },
    elapsedMillis: 1000
  }

  it("a good run has no violations; a rate exactly at the limit is allowed", () => {
    expect(Demo.violations(good)).toEqual([])
  })

  it("names every broken invariant", () => {
    expect(Demo.violations({
      ...good,
      created: 2,
      failures: { Timeout: 1, Defect: 1 },
      duplicates: 1,
      maxRate: 21,
      webhooks: { verified: 1, rejected: 2, missing: 1 },
      server: { ...good.server, projectsCreated: 3 }
    })).toEqual([
      "1 of 3 projects were not created (1 Timeout, 1 Defect)",
      "1 creates died with a defect",
      "the server created 1 duplicate project(s)",
      "the server saw 21 requests in one second, above its limit of 20",
      "2 webhook deliveries failed verification",
      "1 created projects had no verified webhook"
    ])
  })

  it.effect("check fails with InvariantsFailed listing them", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Demo.check({ ...good, violations: ["a duplicate"] }))
      expect(error._tag).toBe("InvariantsFailed")
      expect(error.message).toContain("a duplicate")
      expect(yield* Demo.check({ ...good, violations: [] })).toMatchObject({ created: 3 })
    }))
})
