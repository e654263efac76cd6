/**
 * Parsing of `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
 *
 * Garbage is ignored (`undefined`), never thrown: a server that sends
 * `Retry-After: soon` gets the same treatment as one that sends nothing.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"

const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
const imfFixdate = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
// Obsolete RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
const rfc850 = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
// Obsolete asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space)
const asctime = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

const utc = (
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number
): number | undefined => {
  const m = months.indexOf(month.toLowerCase())
  if (m < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined
  const millis = Date.UTC(year, m, day, hour, minute, Math.min(second, 59))
  // Date.UTC rolls "31 Feb" over into March; a date that rolled over is not a date.
  return new Date(millis).getUTCDate() === day ? millis : undefined
}

/**
 * Parses an RFC 9110 HTTP-date in any of its three forms into epoch milliseconds.
 * Dates are always UTC (asctime has no zone and is UTC by definition, which is
 * why this does not use `Date.parse`: it reads asctime as local time).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseHttpDate = (value: string, nowMillis: number): number | undefined => {
  let m = imfFixdate.exec(value)
  if (m !== null) return utc(+m[3]!, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!)
  m = rfc850.exec(value)
  if (m !== null) {
    // RFC 9110: a two-digit year more than 50 years in the future means the past century.
    const currentYear = new Date(nowMillis).getUTCFullYear()
    let year = Math.floor(currentYear / 100) * 100 + +m[3]!
    if (year > currentYear + 50) year -= 100
    return utc(year, m[2]!, +m[1]!, +m[4]!, +m[5]!, +m[6]!)
  }
  m = asctime.exec(value)
  if (m !== null) return utc(+m[6]!, m[1]!, +m[2]!.trim(), +m[3]!, +m[4]!, +m[5]!)
  return undefined
}

/** Longer waits than this are not a hint but a broken header; ignore them. */
const maxSeconds = 366 * 24 * 60 * 60

/**
 * Parses a `Retry-After` value relative to `nowMillis` (read it from `Clock`).
 * A date in the past means "now" (zero). Returns `undefined` for anything that is
 * neither a non-negative integer nor an HTTP-date, and for waits over a year.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * import { RetryAfter } from "@apikit/http"
 * RetryAfter.parse("120", 0) // Duration 2 minutes
 * RetryAfter.parse("Wed, 21 Oct 2015 07:28:00 GMT", Date.UTC(2015, 9, 21, 7, 27)) // Duration 1 minute
 */
export const parse = (value: string | undefined, nowMillis: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d{1,10}$/.test(trimmed)) {
    const seconds = Number(trimmed)
    return seconds <= maxSeconds ? Duration.seconds(seconds) : undefined
  }
  const at = parseHttpDate(trimmed, nowMillis)
  if (at === undefined) return undefined
  const delta = at - nowMillis
  if (delta > maxSeconds * 1000) return undefined
  return Duration.millis(Math.max(0, delta))
}
