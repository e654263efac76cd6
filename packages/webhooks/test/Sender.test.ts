import { Capture, MockHttp } from "@apikit/testing"
import { Sender, StandardWebhooks } from "@apikit/webhooks"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Layer, Redacted, TestClock } from "effect"

const url = "https://customer.example.com/hooks"
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const old = "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA=="
const start = 1_700_000_000_000
const body = "{\"type\":\"invoice.paid\",\"data\":{\"id\":\"in_1\"}}"

const withRoutes = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.merge(MockHttp.layer(routes), Capture.layer))

/** Runs a delivery to completion, letting the TestClock run through every wait. */
const deliver = (options: Partial<Sender.Options> = {}) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(start)
    const fiber = yield* Effect.fork(
      Sender.deliver({ url, secrets: [Redacted.make(secret)], id: "msg_1", body, ...options })
    )
    yield* TestClock.adjust(Duration.days(2))
    return yield* Fiber.join(fiber)
  })

describe("Sender", () => {
  it.effect("signs in Standard Webhooks format, byte for byte, with one signature per secret", () =>
    Effect.gen(function*() {
      const report = yield* deliver({ secrets: [Redacted.make(old), Redacted.make(secret)] })
      expect(report.result).toBe("Delivered")
      expect(report.attempts).toHaveLength(1)
      const [sent] = yield* MockHttp.requests
      expect(sent!.text).toBe(body)
      expect(sent!.headers["content-type"]).toBe("application/json")
      expect(sent!.headers["webhook-id"]).toBe("msg_1")
      expect(sent!.headers["webhook-timestamp"]).toBe(String(start / 1000))
      expect(sent!.headers["webhook-signature"]!.split(" ")).toHaveLength(2)
      for (const s of [old, secret]) {
        const verifier = yield* StandardWebhooks.verifier({ secrets: Redacted.make(s) })
        // The TestClock has moved on by two days; verify at the time it was sent.
        expect(verifier.verifyAt({ headers: sent!.headers, body: sent!.body }, start)).toEqual({
          scheme: "standard-webhooks",
          id: "msg_1",
          timestamp: start / 1000
        })
      }
    }).pipe(withRoutes([MockHttp.post(url, MockHttp.status(204))])))

  it.effect("retries on the Svix schedule with jitter, a fresh timestamp and the same id, then gives up", () =>
    Effect.gen(function*() {
      const report = yield* deliver()
      expect(report.result).toBe("Exhausted")
      expect(report.attempts).toHaveLength(8)
      const sent = yield* MockHttp.requests
      expect(new Set(sent.map((r) => r.headers["webhook-id"]))).toEqual(new Set(["msg_1"]))
      const stamps = sent.map((r) => Number(r.headers["webhook-timestamp"]))
      const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!)
      const expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(Math.floor(expected[i]! * 0.8))
        expect(gap).toBeLessThanOrEqual(Math.ceil(expected[i]! * 1.2))
      })
      expect(report.attempts.map((a) => a.outcome)).toEqual(Array(8).fill("Failed"))
      expect(report.attempts.map((a) => a.status)).toEqual(Array(8).fill(500))
      expect(report.attempts.at(-1)!.nextAttemptIn).toBeUndefined()
      expect(report.attempts.map((a) => a.timestamp)).toEqual(stamps)
    }).pipe(withRoutes([MockHttp.post(url, MockHttp.status(500))])))

  it.effect("uses the exact schedule without jitter", () =>
    Effect.gen(function*() {
      const report = yield* deliver({ jitter: 0 })
      expect(report.attempts.slice(0, -1).map((a) => Duration.toSeconds(a.nextAttemptIn!))).toEqual([
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000
      ])
    }).pipe(withRoutes([MockHttp.post(url, MockHttp.status(503))])))

  it.effect("stops at 410 Gone and disables the endpoint", () =>
    Effect.gen(function*() {
      const report = yield* deliver()
      expect(report.result).toBe("EndpointDisabled")
      expect(report.attempts.map((a) => a.outcome)).toEqual(["Gone"])
      expect(yield* MockHttp.count()).toBe(1)
    }).pipe(withRoutes([MockHttp.post(url, MockHttp.status(410))])))

  it.effect("treats 3xx as a failure, honours Retry-After as a floor, and reports each attempt", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const report = yield* deliver({ onAttempt: (a) => Effect.sync(() => seen.push(a.outcome)) })
      expect(report.result).toBe("Delivered")
      expect(report.attempts.map((a) => [a.outcome, a.status])).toEqual([
        ["Failed", 302],
        ["Failed", 429],
        ["Delivered", 200]
      ])
      expect(seen).toEqual(["Failed", "Failed", "Delivered"])
      // 5 min scheduled, jittered to at most 6 min, but the endpoint asked for an hour.
      expect(Duration.toSeconds(report.attempts[1]!.retryAfter!)).toBe(3600)
      expect(Duration.toSeconds(report.attempts[1]!.nextAttemptIn!)).toBe(3600)
      const stamps = (yield* MockHttp.requests).map((r) => Number(r.headers["webhook-timestamp"]))
      expect(stamps[2]! - stamps[1]!).toBe(3600)
    }).pipe(withRoutes([
      MockHttp.post(
        url,
        MockHttp.sequence(
          MockHttp.status(302, { location: "https://elsewhere.example.com" }),
          MockHttp.status(429, { "retry-after": "3600" }),
          MockHttp.status(200)
        )
      )
    ])))

  it.effect("times an attempt out after 15 s and reports transport errors", () =>
    Effect.gen(function*() {
      const report = yield* deliver()
      expect(report.attempts.map((a) => a.outcome)).toEqual(["Timeout", "TransportError", "Delivered"])
      const stamps = (yield* MockHttp.requests).map((r) => Number(r.headers["webhook-timestamp"]))
      // The second attempt started after the 15 s timeout plus the ~5 s wait.
      expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(15 + 4)
    }).pipe(withRoutes([
      MockHttp.post(
        url,
        MockHttp.sequence(MockHttp.hang, MockHttp.transportError("ECONNREFUSED"), MockHttp.status(200))
      )
    ])))

  it.effect("fails with WebhookConfigError for a secret that is not whsec_ base64, and never logs secrets", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(deliver({ secrets: Redacted.make("whsec_!!!") }))
      expect(error._tag).toBe("WebhookConfigError")
      expect(yield* MockHttp.count()).toBe(0)
      yield* deliver({ url: `${url}?token=SENTINEL-url-token` })
      const capture = yield* Capture.Capture
      const dump = capture.dump()
      expect(dump).toContain("apikit.webhook.deliver")
      expect(dump).not.toContain(secret.slice(6))
      expect(dump).not.toContain("SENTINEL-url-token")
    }).pipe(withRoutes([MockHttp.post(url, MockHttp.status(200))])))
})

it("keeps Either-returning constructors usable outside Effect", () => {
  expect(Either.isRight(StandardWebhooks.verifier({ secrets: Redacted.make(secret) }))).toBe(true)
})
