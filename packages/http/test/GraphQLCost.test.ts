import { GraphQLCost } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"
import { Duration } from "effect"

const shopify = (available: number, requested: number, actual: number | null = null) => ({
  data: {},
  extensions: {
    cost: {
      requestedQueryCost: requested,
      actualQueryCost: actual,
      throttleStatus: { maximumAvailable: 1000, currentlyAvailable: available, restoreRate: 50 }
    }
  }
})

const millis = (d: Duration.Duration | undefined) => d === undefined ? undefined : Duration.toMillis(d)

describe("GraphQLCost", () => {
  it("reads Shopify's extensions.cost: a leaky bucket in points", () => {
    const quota = GraphQLCost.parse(shopify(51, 101, 90), 0)!
    expect(quota).toMatchObject({ limit: 1000, remaining: 51, restoreRate: 50, requested: 101, actual: 90 })
    // Full again after (1000 - 51) / 50 s.
    expect(millis(quota.reset)).toBe(18_980)
    // 50 more points at 50/s.
    expect(millis(GraphQLCost.waitFor(quota, 101))).toBe(1000)
    expect(millis(GraphQLCost.waitFor(quota, 51))).toBe(0)
  })

  it("reads GitHub's rateLimit field: a budget that resets in full at resetAt", () => {
    const now = Date.parse("2030-01-01T00:00:00Z")
    const quota = GraphQLCost.parse({
      data: { viewer: {}, rateLimit: { cost: 3, limit: 5000, remaining: 2, resetAt: "2030-01-01T00:10:00Z" } }
    }, now)!
    expect(quota).toMatchObject({ limit: 5000, remaining: 2, requested: 3, actual: 3 })
    expect(millis(quota.reset)).toBe(600_000)
    expect(millis(GraphQLCost.waitFor(quota, 3))).toBe(600_000)
    expect(millis(GraphQLCost.waitFor(quota, 2))).toBe(0)
    expect(GraphQLCost.toRateLimitInfo(quota)).toMatchObject({ limit: 5000, remaining: 2, policy: "graphql-points" })
  })

  it("anything else is no report, never a throw", () => {
    const garbage: ReadonlyArray<unknown> = [
      null,
      "x",
      [],
      { data: null },
      { data: { rateLimit: null } },
      { data: { rateLimit: { remaining: "5" } } },
      { data: { rateLimit: { remaining: -1 } } },
      { extensions: { cost: "high" } },
      { extensions: { cost: { throttleStatus: { currentlyAvailable: Number.NaN } } } }
    ]
    for (const body of garbage) expect(GraphQLCost.parse(body, 0)).toBeUndefined()
    // A resetAt that is not a date leaves the reset unknown.
    const quota = GraphQLCost.parse({ data: { rateLimit: { remaining: 0, resetAt: "soon" } } }, 0)!
    expect(quota.reset).toBeUndefined()
    expect(GraphQLCost.waitFor(quota, 1)).toBeUndefined()
  })

  it("waits that waiting cannot help, or that no budget would impose, are unknown", () => {
    // More than the whole bucket: Shopify refuses it at any time.
    expect(GraphQLCost.waitFor(GraphQLCost.parse(shopify(10, 1001), 0)!, 1001)).toBeUndefined()
    const slow = GraphQLCost.parse({
      extensions: { cost: { throttleStatus: { maximumAvailable: 10, currentlyAvailable: 0, restoreRate: 1e-300 } } }
    }, 0)!
    expect(GraphQLCost.waitFor(slow, 5)).toBeUndefined()
  })
})
