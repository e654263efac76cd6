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
        "x-ratelimit-reset-after"
      ),
      FastCheck.string()
    )],
    ([headers]) => {
      const info = RateLimitHeaders.parse(headers, now)
      return info === undefined || info.reset === undefined || Duration.toMillis(info.reset) >= 0
    }
  )
})
