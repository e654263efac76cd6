/**
 * Parsing of server rate-limit headers into {@link RateLimitInfo}:
 *
 * - IETF `RateLimit` / `RateLimit-Policy`, both the structured-field form of
 *   draft-ietf-httpapi-ratelimit-headers-08+ (`"default";r=0;t=30`, `"default";q=100;w=60`)
 *   and the dictionary form of drafts 06/07 (`limit=100, remaining=0, reset=30`);
 * - the separate `RateLimit-Limit` / `-Remaining` / `-Reset` headers of early drafts;
 * - `X-RateLimit-Limit` / `-Remaining` / `-Reset` (reset as delta seconds, epoch
 *   seconds as GitHub sends, or epoch milliseconds) and `X-RateLimit-Reset-After`.
 *
 * Values that are not numbers are ignored, never thrown.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { RateLimitInfo } from "./ApiError.js"

type HeaderBag = Readonly<Record<string, string | undefined>>

const integer = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  // "100, 100;w=60" (a limit header that repeats the policy): the leading number is the limit.
  const m = /^\s*(\d{1,15})\s*(?:[,;]|$)/.exec(value)
  return m === null ? undefined : Number(m[1])
}

const seconds = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const m = /^\s*(\d{1,15}(?:\.\d+)?)\s*$/.exec(value)
  return m === null ? undefined : Number(m[1])
}

/** The parameters of the first item of a structured-field list: `"name";r=0;t=30`. */
const structuredItem = (value: string): { name?: string; params: Map<string, string> } | undefined => {
  const first = value.split(",")[0]!.trim()
  const m = /^(?:"([^"]*)"|([A-Za-z*][\w.*:/-]*))((?:\s*;\s*[a-z*][a-z0-9_.*-]*=[^;]*)*)$/.exec(first)
  if (m === null) return undefined
  const params = new Map<string, string>()
  for (const part of m[3]!.split(";").slice(1)) {
    const eq = part.indexOf("=")
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const name = m[1] ?? m[2]
  return name === undefined ? { params } : { name, params }
}

/** Drafts 06/07: `limit=100, remaining=50, reset=50`. */
const dictionary = (value: string): Map<string, string> => {
  const out = new Map<string, string>()
  for (const part of value.split(",")) {
    const eq = part.indexOf("=")
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
  }
  return out
}

/** Epoch seconds look like 1.7e9; epoch millis like 1.7e12; anything smaller is a delta. */
const resetFrom = (value: number, nowMillis: number): number | undefined => {
  if (value >= 1e12) return Math.max(0, value - nowMillis) / 1000
  if (value >= 1e9) return Math.max(0, value * 1000 - nowMillis) / 1000
  return value
}

/**
 * Parses whichever rate-limit headers are present. `headers` must have
 * lower-case names (as `@effect/platform` Headers do). `nowMillis` comes from
 * `Clock`; it turns epoch resets into delays. Returns `undefined` when no header
 * says anything usable.
 *
 * @since 0.1.0
 */
export const parse = (headers: HeaderBag, nowMillis: number): RateLimitInfo | undefined => {
  let limit: number | undefined
  let remaining: number | undefined
  let reset: number | undefined
  let window: number | undefined
  let policy: string | undefined

  const ratelimit = headers["ratelimit"]
  if (ratelimit !== undefined) {
    const item = /(^|[\s,;])r=/.test(ratelimit) || ratelimit.trimStart().startsWith("\"")
      ? structuredItem(ratelimit)
      : undefined
    if (item !== undefined) {
      policy = item.name
      remaining = integer(item.params.get("r"))
      reset = seconds(item.params.get("t"))
    } else {
      const dict = dictionary(ratelimit)
      limit = integer(dict.get("limit"))
      remaining = integer(dict.get("remaining"))
      reset = seconds(dict.get("reset"))
    }
  }
  const ratelimitPolicy = headers["ratelimit-policy"]
  if (ratelimitPolicy !== undefined) {
    const item = structuredItem(ratelimitPolicy)
    if (item !== undefined && item.params.has("q")) {
      limit ??= integer(item.params.get("q"))
      window = seconds(item.params.get("w"))
      policy ??= item.name
    } else {
      // Draft 03: "100;w=60"
      limit ??= integer(ratelimitPolicy)
      const w = /;\s*w=(\d+)/.exec(ratelimitPolicy)
      if (w !== null) window = Number(w[1])
    }
  }
  limit ??= integer(headers["ratelimit-limit"]) ?? integer(headers["x-ratelimit-limit"])
  remaining ??= integer(headers["ratelimit-remaining"]) ?? integer(headers["x-ratelimit-remaining"])
  reset ??= seconds(headers["ratelimit-reset"]) ?? seconds(headers["x-ratelimit-reset-after"])
  if (reset === undefined) {
    const x = seconds(headers["x-ratelimit-reset"])
    if (x !== undefined) reset = resetFrom(x, nowMillis)
  }

  if (limit === undefined && remaining === undefined && reset === undefined && window === undefined) {
    return undefined
  }
  return new RateLimitInfo({
    ...(limit === undefined ? {} : { limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(reset === undefined ? {} : { reset: Duration.millis(Math.round(reset * 1000)) }),
    ...(window === undefined ? {} : { window: Duration.seconds(window) }),
    ...(policy === undefined ? {} : { policy })
  })
}
