/**
 * Fuzzing response classification: random statuses, headers (garbage
 * Retry-After and rate-limit values included), non-UTF-8, truncated and huge
 * bodies, through the whole ApiClient. Whatever comes back, the call ends in a
 * value or a typed ApiError: never a defect. 300 runs per property in
 * `pnpm test`, 10,000 in `pnpm test:chaos`.
 */
import { ApiClient, ApiError } from "@apikit/http"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, FastCheck as fc, Schema } from "effect"

const chaos = process.env["APIKIT_CHAOS"] === "1"
const numRuns = chaos ? 10_000 : 300
const timeout = chaos ? 600_000 : 60_000

const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  fc.constantFrom("0", "-1", "1e9", "NaN", "Infinity", "9999999999999999999", "Sun, 06 Nov 1994 08:49:37 GMT", ""),
  fc.nat().map(String)
)
const headerName = fc.constantFrom(
  "retry-after",
  "ratelimit",
  "ratelimit-policy",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "x-ratelimit-reset-after",
  "content-type",
  "www-authenticate",
  "x-request-id",
  "link"
)
const body = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }), // random bytes: mostly not UTF-8, sometimes over the limit
  fc.json().map((j) => new TextEncoder().encode(j)),
  fc.constant(new Uint8Array(0)),
  fc.json().map((j) => new TextEncoder().encode(j).subarray(0, Math.floor(j.length / 2))) // truncated JSON
)
const response = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
  body
})

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

const call = (reply: { status: number; headers: Record<string, string>; body: Uint8Array }, withSchema: boolean) =>
  Effect.gen(function*() {
    const api = yield* ApiClient.make({ baseUrl: "https://api.example.com", maxResponseBytes: 2048 })
    return yield* api.get("/fuzz", withSchema ? { success: Project } : {})
  }).pipe(
    Effect.provide(MockHttp.layer([MockHttp.get("/fuzz", MockHttp.text(reply.status, reply.body, reply.headers))])),
    Effect.exit
  )

const typedOrValue = (exit: Exit.Exit<unknown, ApiError.ApiError>) =>
  Exit.isSuccess(exit) ||
  (!Cause.isDie(exit.cause) && !Cause.isInterrupted(exit.cause) &&
    Cause.failureOption(exit.cause).pipe((o) => o._tag === "Some" && ApiError.isApiError(o.value)))

describe("fuzzing response classification", () => {
  it("any status, headers and body end in a value or a typed ApiError", async () => {
    await fc.assert(
      fc.asyncProperty(response, fc.boolean(), async (reply, withSchema) => {
        const exit = await Effect.runPromise(call(reply, withSchema))
        if (!typedOrValue(exit)) {
          throw new Error(`not typed: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "?"}`)
        }
        // Classification follows the status.
        if (reply.status < 300 && Exit.isFailure(exit)) {
          const tag = Cause.failureOption(exit.cause).pipe((o) => (o._tag === "Some" ? o.value._tag : ""))
          expect(["DecodeError", "ResponseTooLarge"]).toContain(tag)
        }
        if (reply.status >= 300) expect(Exit.isFailure(exit)).toBe(true)
      }),
      { numRuns }
    )
  }, timeout)

  it("a RateLimited retryAfter is never negative, whatever the headers say", async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(headerName, headerValue, { maxKeys: 6 }), async (headers) => {
        const exit = await Effect.runPromise(call({ status: 429, headers, body: new Uint8Array(0) }, false))
        const error = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
        expect(error?._tag).toBe("Some")
        const e = (error as { value: ApiError.ApiError }).value
        expect(e._tag).toBe("RateLimited")
        const after = ApiError.retryAfterOf(e)
        if (after !== undefined) expect(Duration.toMillis(after)).toBeGreaterThanOrEqual(0)
      }),
      { numRuns }
    )
  }, timeout)
})
