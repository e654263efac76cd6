import { RetryAfter } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"
import { Duration, FastCheck } from "effect"

const now = Date.UTC(1994, 10, 6, 8, 49, 0) // Sun, 06 Nov 1994 08:49:00 GMT

const millis = (d: Duration.Duration | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

describe("RetryAfter.parse", () => {
  it("reads delta-seconds", () => {
    expect(millis(RetryAfter.parse("120", now))).toBe(120_000)
    expect(millis(RetryAfter.parse(" 0 ", now))).toBe(0)
  })

  it("reads all three RFC 9110 HTTP-date forms as UTC", () => {
    expect(millis(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now))).toBe(37_000)
    expect(millis(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now))).toBe(37_000)
    expect(millis(RetryAfter.parse("Sun Nov  6 08:49:37 1994", now))).toBe(37_000)
  })

  it("treats a date in the past as now", () => {
    expect(millis(RetryAfter.parse("Sat, 05 Nov 1994 08:49:37 GMT", now))).toBe(0)
  })

  it("ignores garbage instead of throwing", () => {
    for (
      const garbage of [
        "",
        "soon",
        "-5",
        "1.5",
        "1e3",
        "0x10",
        "99999999999",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Mon, 06 Foo 1994 08:49:37 GMT"
      ]
    ) {
      expect(RetryAfter.parse(garbage, now), garbage).toBeUndefined()
    }
    expect(RetryAfter.parse(undefined, now)).toBeUndefined()
  })

  it("ignores waits longer than a year", () => {
    expect(RetryAfter.parse(String(400 * 24 * 3600), now)).toBeUndefined()
    expect(RetryAfter.parse("Sun, 06 Nov 2094 08:49:37 GMT", now)).toBeUndefined()
  })

  it.prop("never throws and never returns a negative delay", [FastCheck.string(), FastCheck.nat()], ([s, t]) => {
    const d = RetryAfter.parse(s, t)
    return d === undefined || Duration.toMillis(d) >= 0
  })
})
