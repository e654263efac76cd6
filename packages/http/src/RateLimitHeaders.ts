/**
 * Parsing of server rate-limit headers into {@link RateLimitInfo} (limit,
 * remaining, reset, window):
 *
 * - IETF `RateLimit` / `RateLimit-Policy`, both the structured-field form of
 *   draft-ietf-httpapi-ratelimit-headers-08+ (`"burst";r=0;t=30, "daily";r=990;t=3600`
 *   with `"burst";q=10;w=1, "daily";q=1000;w=86400`: several named policies) and the
 *   dictionary form of drafts 06/07 (`limit=100, remaining=0, reset=30`, `100;w=60`);
 * - the separate `RateLimit-Limit` / `-Remaining` / `-Reset` headers of early drafts;
 * - `X-RateLimit-Limit` / `-Remaining` / `-Reset` (GitHub, express-rate-limit's
 *   legacy headers, @fastify/rate-limit), `X-Rate-Limit-*` (Twitter/X),
 *   `X-RateLimit-Reset-After` and `X-RateLimit-Retry-After` (delta seconds);
 * - Shopify's leaky bucket `X-Shopify-Shop-Api-Call-Limit: 32/40`.
 *
 * Resets are read by an explicit rule per header ({@link ResetUnit}), never
 * by the size of the number alone; {@link make} overrides the rules and adds a
 * provider's own headers. Values that are not numbers are ignored, never
 * thrown.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { RateLimitInfo } from "./ApiError.js"

type HeaderBag = Readonly<Record<string, string | undefined>>

/**
 * How a header's reset value is read:
 * - `"delta-seconds"`: seconds from now (IETF `RateLimit-Reset`, @fastify/rate-limit's `x-ratelimit-reset`);
 * - `"epoch-seconds"`: a Unix time (GitHub's and Twitter/X's resets, express-rate-limit's legacy header);
 * - `"epoch-millis"`: a Unix time in milliseconds;
 * - `"clock"`: for a header that servers use both ways (`X-RateLimit-Reset`): a value
 *   that names a time between a day ago and a year ahead on the Effect `Clock` is
 *   epoch seconds (or milliseconds), and otherwise a delta of seconds. A delta never
 *   reaches a year and a Unix time is never under one, so the two cannot be confused.
 *
 * @since 0.1.0
 * @category parsing
 */
export type ResetUnit = "delta-seconds" | "epoch-seconds" | "epoch-millis" | "clock"

/**
 * A parser of rate-limit headers: what the server said, or `undefined`.
 * `headers` have lower-case names; `nowMillis` comes from `Clock`.
 *
 * @since 0.1.0
 * @category parsing
 */
export type Parser = (headers: HeaderBag, nowMillis: number) => RateLimitInfo | undefined

/**
 * The rule per reset header (lower-case names). Override one with {@link make}.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultResetUnits: Readonly<Record<string, ResetUnit>> = {
  "ratelimit-reset": "delta-seconds",
  "x-ratelimit-reset-after": "delta-seconds",
  "x-ratelimit-retry-after": "delta-seconds",
  "x-rate-limit-reset": "epoch-seconds",
  "x-ratelimit-reset": "clock"
}

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

const day = 86_400_000
const year = 366 * day

/** A reset value in seconds from now, by the header's rule; `undefined` when it names no plausible time. */
const resetSeconds = (value: number, unit: ResetUnit, now: number): number | undefined => {
  const fromEpoch = (at: number) => at < now - day || at > now + year ? undefined : Math.max(0, at - now) / 1000
  switch (unit) {
    case "delta-seconds":
      return value * 1000 > year ? undefined : value
    case "epoch-seconds":
      return fromEpoch(value * 1000)
    case "epoch-millis":
      return fromEpoch(value)
    case "clock":
      return fromEpoch(value * 1000) ?? fromEpoch(value) ?? (value * 1000 > year ? undefined : value)
  }
}

interface Item {
  readonly name: string | undefined
  readonly params: Map<string, string>
}

/** The items of a structured-field list: `"burst";r=0;t=30, "daily";r=5;t=3600`. Malformed items are skipped. */
const structuredItems = (value: string): Array<Item> => {
  const out: Array<Item> = []
  for (const raw of value.split(",")) {
    const m = /^(?:"([^"]*)"|([A-Za-z*][\w.*:/-]*))((?:\s*;\s*[a-z*][a-z0-9_.*-]*=[^;]*)*)$/.exec(raw.trim())
    if (m === null) continue
    const params = new Map<string, string>()
    for (const part of m[3]!.split(";").slice(1)) {
      const eq = part.indexOf("=")
      params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
    }
    out.push({ name: m[1] ?? m[2], params })
  }
  return out
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

interface Draft {
  limit?: number | undefined
  remaining?: number | undefined
  reset?: number | undefined
  window?: number | undefined
  policy?: string | undefined
}

const info = (d: Draft): RateLimitInfo | undefined => {
  // A server that says more remains than its own limit contradicts itself: the limit wins.
  const remaining = d.remaining !== undefined && d.limit !== undefined ? Math.min(d.remaining, d.limit) : d.remaining
  if (d.limit === undefined && remaining === undefined && d.reset === undefined && d.window === undefined) {
    return undefined
  }
  return new RateLimitInfo({
    ...(d.limit === undefined ? {} : { limit: d.limit }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(d.reset === undefined ? {} : { reset: Duration.millis(Math.round(d.reset * 1000)) }),
    ...(d.window === undefined ? {} : { window: Duration.millis(Math.round(d.window * 1000)) }),
    ...(d.policy === undefined ? {} : { policy: d.policy })
  })
}

/** The IETF policies (draft-8+ structured lists, or one draft-6/7 dictionary), joined by name. */
const ietf = (headers: HeaderBag): Array<Draft> => {
  const out: Array<Draft> = []
  const byName = new Map<string, Draft>()
  const ratelimit = headers["ratelimit"]
  if (ratelimit !== undefined) {
    const structured = /(^|[\s,;])r=/.test(ratelimit) || ratelimit.trimStart().startsWith("\"")
    if (structured) {
      for (const item of structuredItems(ratelimit)) {
        const d: Draft = { remaining: integer(item.params.get("r")), reset: seconds(item.params.get("t")) }
        if (item.name !== undefined) {
          d.policy = item.name
          byName.set(item.name, d)
        }
        out.push(d)
      }
    } else {
      const dict = dictionary(ratelimit)
      out.push({
        limit: integer(dict.get("limit")),
        remaining: integer(dict.get("remaining")),
        reset: seconds(dict.get("reset"))
      })
    }
  }
  const policyHeader = headers["ratelimit-policy"]
  if (policyHeader !== undefined) {
    const items = structuredItems(policyHeader).filter((item) => item.params.has("q"))
    if (items.length > 0) {
      for (const item of items) {
        const known = item.name === undefined ? undefined : byName.get(item.name)
        // An unnamed policy or one whose name matches no item applies to the only item there is.
        const target = known ?? (out.length === 1 && items.length === 1 ? out[0] : undefined)
        const d = target ?? { policy: item.name }
        d.limit ??= integer(item.params.get("q"))
        d.window ??= seconds(item.params.get("w"))
        if (target === undefined) out.push(d)
      }
    } else {
      // Drafts 03–07: "100;w=60" (or "100, 100;w=60")
      const d = out[0] ?? {}
      d.limit ??= integer(policyHeader)
      const w = /;\s*w=(\d{1,15})(?!\d)/.exec(policyHeader)
      if (w !== null) d.window ??= Number(w[1])
      if (out.length === 0) out.push(d)
    }
  }
  return out
}

/** Shopify's leaky bucket: `32/40` used of the bucket; it drains the whole bucket in 20 s (2/s of 40, 20/s of 400). */
const shopify = (value: string | undefined): Draft | undefined => {
  if (value === undefined) return undefined
  const m = /^\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*$/.exec(value)
  if (m === null) return undefined
  const used = Number(m[1])
  const limit = Number(m[2])
  if (limit === 0) return undefined
  return { limit, remaining: Math.max(0, limit - used), reset: (Math.min(used, limit) * 20) / limit, window: 20 }
}

/**
 * The binding policy of several: the one with the least remaining, so that
 * obeying it obeys all of them. On a tie, the later reset, unless it is less
 * than a second later: that is the same reset rounded differently by another
 * header family (express-rate-limit's legacy epoch seconds next to its IETF
 * delta), and the first family, the more precise, is kept.
 */
const binding = (drafts: ReadonlyArray<Draft>): Draft | undefined => {
  let best: Draft | undefined
  for (const d of drafts) {
    if (best === undefined) {
      best = d
      continue
    }
    const r = d.remaining ?? Infinity
    const b = best.remaining ?? Infinity
    if (r < b || (r === b && (d.reset ?? 0) >= (best.reset ?? 0) + 1)) best = d
  }
  return best
}

/** Every header the standard parser reads. */
const known = [
  "ratelimit",
  "ratelimit-policy",
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "x-ratelimit-reset-after",
  "x-ratelimit-retry-after",
  "x-rate-limit-limit",
  "x-rate-limit-remaining",
  "x-rate-limit-reset",
  "x-shopify-shop-api-call-limit"
]

const knownSet = new Set(known)

/**
 * Whether any header the standard parser reads is present: one pass over the
 * answer's header names (most answers carry none), no allocation.
 *
 * @since 0.1.0
 * @category parsing
 */
export const mentions = (headers: HeaderBag): boolean => {
  for (const name in headers) if (knownSet.has(name)) return true
  return false
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Rules per reset header (lower-case name), merged over {@link defaultResetUnits}. */
  readonly resetUnits?: Readonly<Record<string, ResetUnit>> | undefined
  /**
   * A provider's own headers. What it returns is one more policy: the binding
   * one (least remaining) of it and the standard headers is the result.
   */
  readonly custom?: Parser | undefined
}

/**
 * Makes a parser: the standard headers read by `resetUnits`, plus a provider's own.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { RateLimitHeaders } from "@apikit/http"
 *
 * // A provider whose X-RateLimit-Reset is always a delta, and who sends X-Quota-Left.
 * const parser = RateLimitHeaders.make({
 *   resetUnits: { "x-ratelimit-reset": "delta-seconds" },
 *   custom: (headers) => {
 *     const left = Number(headers["x-quota-left"])
 *     return Number.isInteger(left) && left >= 0 ? new RateLimitHeaders.RateLimitInfo({ remaining: left }) : undefined
 *   }
 * })
 */
export const make = (options: Options = {}): Parser => {
  const units = { ...defaultResetUnits, ...options.resetUnits }
  const reset = (headers: HeaderBag, name: string, now: number): number | undefined => {
    const value = seconds(headers[name])
    return value === undefined ? undefined : resetSeconds(value, units[name] ?? "delta-seconds", now)
  }
  const custom = options.custom
  return (headers, now) => {
    // Most answers carry none of these: say so with a few lookups, before any allocation.
    if (custom === undefined && !mentions(headers)) return undefined
    const drafts = ietf(headers)
    // One "X-" family: limit, remaining and reset of the same provider.
    const xRemaining = integer(headers["x-ratelimit-remaining"]) ?? integer(headers["x-rate-limit-remaining"])
    const xLimit = integer(headers["x-ratelimit-limit"]) ?? integer(headers["x-rate-limit-limit"])
    const xReset = reset(headers, "x-ratelimit-reset-after", now) ?? reset(headers, "x-ratelimit-retry-after", now) ??
      reset(headers, "x-ratelimit-reset", now) ?? reset(headers, "x-rate-limit-reset", now)
    const early: Draft = {
      limit: integer(headers["ratelimit-limit"]),
      remaining: integer(headers["ratelimit-remaining"]),
      reset: reset(headers, "ratelimit-reset", now)
    }
    if (drafts.length === 1 && drafts[0]!.remaining === undefined) {
      // Draft 03–06 sends the policy and the separate fields together: one policy.
      const d = drafts[0]!
      d.limit ??= early.limit
      d.remaining = early.remaining
      d.reset ??= early.reset
    } else if (early.limit !== undefined || early.remaining !== undefined || early.reset !== undefined) {
      drafts.push(early)
    }
    if (xRemaining !== undefined || xLimit !== undefined || xReset !== undefined) {
      drafts.push({ limit: xLimit, remaining: xRemaining, reset: xReset })
    }
    const shop = shopify(headers["x-shopify-shop-api-call-limit"])
    if (shop !== undefined) drafts.push(shop)
    const own = custom?.(headers, now)
    if (own !== undefined) {
      drafts.push({
        limit: own.limit,
        remaining: own.remaining,
        reset: own.reset === undefined ? undefined : Duration.toMillis(own.reset) / 1000,
        window: own.window === undefined ? undefined : Duration.toMillis(own.window) / 1000,
        policy: own.policy
      })
    }
    const best = binding(drafts)
    if (best === undefined) return undefined
    // A family that gives a remaining but not a reset borrows the reset another family said:
    // they describe the same server.
    if (best.reset === undefined && best.remaining !== undefined) {
      best.reset = drafts.find((d) => d.reset !== undefined)?.reset
    }
    return info(best)
  }
}

/**
 * Parses whichever rate-limit headers are present with the default rules, into
 * the binding policy (the one with the least remaining). `headers` must have
 * lower-case names (as `@effect/platform` Headers do). `nowMillis` comes from
 * `Clock`; it turns epoch resets into delays. Returns `undefined` when no header
 * says anything usable.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse: Parser = make()

export {
  /**
   * What a server said about its rate limit (re-exported from `ApiError`).
   *
   * @since 0.1.0
   * @category models
   */
  RateLimitInfo
}
