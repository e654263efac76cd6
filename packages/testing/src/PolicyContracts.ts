/**
 * The contract of a pipeline policy, for anyone who writes one: it sits in its
 * slot in the documented order, and when it promises `honorsDeadline` it keeps
 * that promise under `TestClock` whatever the stage below it answers.
 *
 * ```ts
 * import * as PolicyContracts from "@apikit/testing/PolicyContracts"
 * import { describe } from "@effect/vitest"
 *
 * describe("my retry policy", () => PolicyContracts.policy(() => Effect.succeed(MyRetry.policy), Layer.empty))
 * ```
 *
 * This module imports vitest: import it from test files only.
 *
 * @since 0.1.0
 */
import * as ApiClient from "@apikit/http/ApiClient"
import * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as MockHttp from "./MockHttp.js"

/**
 * The slots in the documented pipeline order, outermost first (`Policy.slots`, the README's
 * "One call through the pipeline"). The suite checks ApiClient against it.
 *
 * @since 0.1.0
 * @category contracts
 */
export const documentedOrder: ReadonlyArray<Policy.Slot> = Policy.slots

const where = { method: "GET" as const, url: "https://api.example.com/v1/x" }

/** What the stage below the policy may answer, each after 100 ms of virtual time. */
const answers: ReadonlyArray<readonly [string, Effect.Effect<Policy.ApiResponse, ApiError.ApiError>]> = [
  ["a 200", Effect.succeed({ status: 200, headers: Headers.empty, body: new Uint8Array() })],
  ["a 503", Effect.fail(new ApiError.ServerError({ ...where, status: 503 }))],
  [
    "a 429 with Retry-After past the deadline",
    Effect.fail(
      new ApiError.RateLimited({ ...where, status: 429, reason: "TooManyRequests", retryAfter: Duration.seconds(10) })
    )
  ],
  [
    "an attempt timeout",
    Effect.fail(new ApiError.Timeout({ ...where, reason: "Attempt", after: Duration.millis(100) }))
  ],
  ["a connection reset", Effect.fail(new ApiError.Transport({ ...where, reason: "ConnectionReset", detail: "reset" }))]
]

const recorder = (slot: Policy.Slot, entered: Array<Policy.Slot>) =>
  Policy.make(slot, `record(${slot})`, (next) => (request, context) =>
    Effect.suspend(() => {
      entered.push(slot)
      return next(request, context)
    }), { honorsDeadline: true })

/**
 * Registers the policy contract tests for the policy that `make` builds with
 * `layer`'s services:
 *
 * - in an ApiClient with a recording policy in every other slot, a call enters
 *   the slots in {@link documentedOrder};
 * - if it promises `honorsDeadline`: with a deadline 1 s away, whatever the
 *   stage below answers (a 200, a 503, a 429 whose Retry-After is past the
 *   deadline, an attempt timeout, a reset; each after 100 ms, and, like
 *   ApiClient's transport, never past the deadline), the call is over by the
 *   deadline on `TestClock`.
 *
 * @since 0.1.0
 * @category contracts
 */
export const policy = <R>(
  make: () => Effect.Effect<Policy.Policy, unknown, R>,
  layer: () => Layer.Layer<R, unknown>
): void => {
  it.effect("ApiClient runs it in its slot, in the documented order", () =>
    Effect.gen(function*() {
      const subject = yield* make()
      const entered: Array<Policy.Slot> = []
      const slots = Object.fromEntries(
        documentedOrder.map((slot) => [slot, slot === subject.slot ? subject : recorder(slot, entered)])
      )
      const api = yield* ApiClient.make({ baseUrl: "https://api.example.com/v1", ...slots }).pipe(
        Effect.provide(MockHttp.layer([MockHttp.get("/v1/x", MockHttp.json(200, { ok: true }))]))
      )
      // Time passes, for a policy that waits (a token request, a permit).
      const call = yield* Effect.fork(Effect.either(api.get("/x")))
      for (let i = 0; i < 60; i++) yield* TestClock.adjust("1 second")
      yield* Fiber.join(call)
      expect(documentedOrder).toContain(subject.slot)
      expect(entered).toEqual(documentedOrder.filter((slot) => slot !== subject.slot))
    }).pipe(Effect.provide(layer())))

  for (const [what, answer] of answers) {
    it.effect(`honorsDeadline: the call is over by its deadline when the stage below answers ${what}`, () =>
      Effect.gen(function*() {
        const subject = yield* make()
        if (subject.honorsDeadline !== true) return
        const now = yield* Clock.currentTimeMillis
        const context: Policy.CallContext = {
          client: "contract",
          method: "GET",
          url: where.url,
          host: "api.example.com",
          route: "/v1/x",
          idempotent: true,
          replayable: true,
          deadline: now + 1000,
          attemptTimeout: Duration.millis(500),
          totalTimeout: Duration.seconds(1),
          attempt: 1,
          cost: 1
        }
        // The stage below keeps the deadline as ApiClient's transport does (its timer is clamped to
        // it): what the policy itself adds is what the contract is about.
        const below: Policy.Send = (_, ctx) =>
          Effect.flatMap(Clock.currentTimeMillis, (start) => {
            const left = ctx.deadline === undefined ? 100 : ctx.deadline - start
            if (left <= 0) return Effect.fail(Policy.deadlineExceeded(ctx))
            return left < 100
              ? Effect.zipRight(Effect.sleep(Duration.millis(left)), Effect.fail(Policy.deadlineExceeded(ctx)))
              : Effect.zipRight(Effect.sleep("100 millis"), answer)
          })
        const call = subject.wrap(below)(HttpClientRequest.get(where.url), context)
        const fiber = yield* Effect.fork(Effect.either(call))
        for (let t = 0; t < 1000; t += 50) yield* TestClock.adjust("50 millis")
        expect(Option.isSome(yield* Fiber.poll(fiber))).toBe(true)
      }).pipe(Effect.provide(layer())))
  }
}
