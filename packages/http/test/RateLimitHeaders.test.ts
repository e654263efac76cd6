import { RateLimitHeaders } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck } from "effect"

const now = 1_700_000_000_000

const parse = (headers: Record<string, string>) => {
  const info = RateLimitHeaders.parse(headers, now)
  return info === undefined ? undefined : {
    limit: info.limit,
    remaining: info.remaining,
    reset: info.reset === undefined ? undefined : Duration.toMillis(info.reset),
    window: info.window === undefined ? undefined : Duration.toMillis(info.window),
    policy: info.policy
  }
}

describe("RateLimitHeaders.parse", () => {
  it("reads the structured RateLimit / RateLimit-Policy fields (draft 08+)", () => {
    expect(parse({ "ratelimit": "\"default\";r=0;t=30", "ratelimit-policy": "\"default\";q=100;w=60" })).toEqual({
      limit: 100,
      remaining: 0,
      reset: 30_000,
      window: 60_000,
      policy: "default"
    })
  })

  it("reads the dictionary RateLimit field (drafts 06/07)", () => {
    expect(parse({ "ratelimit": "limit=100, remaining=50, reset=50" })).toMatchObject({
      limit: 100,
      remaining: 50,
      reset: 50_000
    })
  })

  it("reads the separate RateLimit-* headers with a draft-03 policy", () => {
    expect(parse({
      "ratelimit-limit": "10",
      "ratelimit-remaining": "3",
      "ratelimit-reset": "7",
      "ratelimit-policy": "10;w=1"
    })).toMatchObject({ limit: 10, remaining: 3, reset: 7_000, window: 1_000 })
  })

  it("reads X-RateLimit-* with the reset as delta seconds, epoch seconds or epoch millis", () => {
    expect(parse({ "x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "30" }))
      .toMatchObject({ limit: 60, remaining: 0, reset: 30_000 })
    // GitHub sends epoch seconds.
    expect(parse({ "x-ratelimit-reset": String(now / 1000 + 90) })).toMatchObject({ reset: 90_000 })
    expect(parse({ "x-ratelimit-reset": String(now + 1_500) })).toMatchObject({ reset: 1_500 })
    expect(parse({ "x-ratelimit-reset-after": "1.25" })).toMatchObject({ reset: 1_250 })
  })

  it("ignores garbage values and returns undefined when nothing is usable", () => {
    expect(parse({})).toBeUndefined()
    expect(parse({ "x-ratelimit-limit": "lots", "x-ratelimit-remaining": "-1", "x-ratelimit-reset": "tomorrow" }))
      .toBeUndefined()
    expect(parse({ "ratelimit": ";;;===", "ratelimit-policy": "\"x\";q=abc" })).toBeUndefined()
    expect(parse({ "x-ratelimit-limit": "100", "x-ratelimit-remaining": "NaN" })).toMatchObject({
      limit: 100,
      remaining: undefined
    })
    // A window of 400 digits is garbage, not an infinite window (which no Duration message could show).
    expect(parse({ "ratelimit-limit": "10", "ratelimit-policy": `10;w=${"9".repeat(400)}` })).toMatchObject({
      limit: 10,
      window: undefined
    })
  })

  it.prop(
    "never throws on arbitrary header values",
    [FastCheck.dictionary(
      FastCheck.constantFrom(
        "ratelimit",
        "ratelimit-policy",
        "ratelimit-limit",
        "ratelimit-remaining",
        "ratelimit-reset",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "x-ratelimit-reset-after",
        "x-rate-limit-reset",
        "x-ratelimit-retry-after",
        "x-shopify-shop-api-call-limit"
      ),
      FastCheck.string()
    )],
    ([headers]) => {
      const info = RateLimitHeaders.parse(headers, now)
      return info === undefined || info.reset === undefined || Duration.toMillis(info.reset) >= 0
    }
  )
})

describe("RateLimitHeaders: several policies, providers, explicit reset rules", () => {
  it("several named IETF policies: the binding one (least remaining) with its own limit and window", () => {
    expect(parse({
      "ratelimit": "\"burst\";r=8;t=1, \"daily\";r=3;t=3600",
      "ratelimit-policy": "\"burst\";q=10;w=1, \"daily\";q=1000;w=86400"
    })).toEqual({ limit: 1000, remaining: 3, reset: 3_600_000, window: 86_400_000, policy: "daily" })
  })

  it("express-rate-limit's draft-6 with legacy headers: the IETF reset, not the epoch second rounded up", () => {
    expect(parse({
      "ratelimit-policy": "10;w=1",
      "ratelimit-limit": "10",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "1",
      "x-ratelimit-limit": "10",
      "x-ratelimit-remaining": "0",
      "x-ratelimit-reset": String(Math.ceil(now / 1000) + 1)
    })).toEqual({ limit: 10, remaining: 0, reset: 1000, window: 1000, policy: undefined })
  })

  it("Shopify's leaky bucket, Twitter/X's X-Rate-Limit-*, and the fallbacks ky reads", () => {
    // 32 of 40 used; the bucket drains 2/s, so it is empty again in 16 s.
    expect(parse({ "x-shopify-shop-api-call-limit": "32/40" })).toEqual({
      limit: 40,
      remaining: 8,
      reset: 16_000,
      window: 20_000,
      policy: undefined
    })
    expect(parse({
      "x-rate-limit-limit": "900",
      "x-rate-limit-remaining": "0",
      "x-rate-limit-reset": String(now / 1000 + 300)
    })).toMatchObject({ limit: 900, remaining: 0, reset: 300_000 })
    expect(parse({ "x-ratelimit-remaining": "0", "x-ratelimit-retry-after": "7" })).toMatchObject({
      remaining: 0,
      reset: 7000
    })
    expect(parse({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": "12" })).toMatchObject({ reset: 12_000 })
  })

  it("reset units are a rule per header, overridable; a value that names no plausible time is ignored", () => {
    // X-Rate-Limit-Reset is epoch seconds: a small number is a time long past, not a delta.
    expect(parse({ "x-rate-limit-remaining": "0", "x-rate-limit-reset": "30" })).toEqual({
      limit: undefined,
      remaining: 0,
      reset: undefined,
      window: undefined,
      policy: undefined
    })
    // A delta of more than a year is garbage.
    expect(parse({ "ratelimit-remaining": "0", "ratelimit-reset": "99999999" })?.reset).toBeUndefined()
    const deltas = RateLimitHeaders.make({ resetUnits: { "x-rate-limit-reset": "delta-seconds" } })
    expect(
      deltas({ "x-rate-limit-remaining": "0", "x-rate-limit-reset": "30" }, now)?.reset
    ).toEqual(Duration.seconds(30))
  })

  it("a custom parser adds a provider's header; the binding policy wins", () => {
    const parser = RateLimitHeaders.make({
      custom: (headers) => {
        const left = Number(headers["x-quota-left"])
        return Number.isInteger(left) && left >= 0 ? new RateLimitHeaders.RateLimitInfo({ remaining: left }) : undefined
      }
    })
    expect(parser({ "x-quota-left": "2", "x-ratelimit-remaining": "50" }, now)?.remaining).toBe(2)
    expect(parser({ "x-quota-left": "soon", "x-ratelimit-remaining": "50" }, now)?.remaining).toBe(50)
  })

  it("a server that says more remains than its limit is held to its limit", () => {
    expect(parse({ "x-ratelimit-limit": "10", "x-ratelimit-remaining": "5000" })?.remaining).toBe(10)
  })
})
