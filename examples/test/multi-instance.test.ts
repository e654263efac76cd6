import { Redis } from "@apikit/redis"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { main } from "../multi-instance.js"

const url = process.env.REDIS_URL ?? Redis.defaultUrl
const probe = Effect.runPromise(
  Layer.build(Redis.layer({ url, connectTimeout: "1 second" })).pipe(
    Effect.scoped,
    Effect.as(true),
    Effect.orElseSucceed(() => false)
  )
)
// Without Redis (and outside CI, which sets APIKIT_REQUIRE_REDIS=1) this example cannot run: skip it.
const available = (await probe) || process.env.APIKIT_REQUIRE_REDIS === "1"

describe.skipIf(!available)("examples/multi-instance", () => {
  it.live("three instances share one token, one quota, one circuit and one replay guard", () =>
    Effect.gen(function*() {
      const lines = yield* main
      expect(lines.slice(0, 7)).toEqual([
        "instance a started: 1 ok",
        "instance b started: 1 ok",
        "instance c started: 1 ok",
        "sandbox: 1 token issued for 3 instances",
        "instance a: 3 ok",
        "instance b: 3 ok",
        "instance c: 3 ok"
      ])
      // At most 5 per second, plus 1 of tolerance: permits are 220 ms apart, so a 6th in one
      // second takes a call that reached the sandbox 100 ms later than the one 5 slots after it.
      const max = Number(/at most (\d+) requests/.exec(lines[7]!)?.[1])
      expect(max).toBeGreaterThanOrEqual(4)
      expect(max).toBeLessThanOrEqual(6)
      expect(lines[7]).toMatch(/shared limit 5\/s\), 0 rejected$/)
      expect(lines.slice(8)).toEqual([
        "instance b, after a isolated the circuit: 0 ok, failed: CircuitOpen",
        "instance c, after a isolated the circuit: 0 ok, failed: CircuitOpen",
        "sandbox: 0 requests while isolated",
        "webhook msg_1 delivered to 3 instances: processed 1 time(s), 2 replay(s) answered 200"
      ])
    }), 30_000)
})
