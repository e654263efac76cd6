/**
 * GraphQL APIs meter queries in points, not requests, and report the budget
 * in the response body rather than in headers. This module reads those
 * reports into one small {@link Quota}:
 *
 * - GitHub: a `rateLimit { cost limit remaining resetAt }` field selected by
 *   the query (`data.rateLimit`); the budget resets in full at `resetAt`.
 * - Shopify: `extensions.cost` with `requestedQueryCost`, `actualQueryCost`
 *   and `throttleStatus { maximumAvailable currentlyAvailable restoreRate }`, a
 *   leaky bucket refilled by `restoreRate` points per second.
 *
 * Pure functions, no I/O; values that are not numbers are ignored, never thrown.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { RateLimitInfo } from "./ApiError.js"

/**
 * A point budget as one response reported it.
 *
 * @since 0.1.0
 * @category models
 */
export class Quota extends Schema.Class<Quota>("@apikit/http/GraphQLQuota")({
  /** Points in a full budget. */
  limit: Schema.optional(Schema.Number),
  /** Points left now. */
  remaining: Schema.Number,
  /** Time until the budget is full again, from when the response arrived. */
  reset: Schema.optional(Schema.DurationFromSelf),
  /** Points restored per second, for budgets that refill continuously (Shopify). */
  restoreRate: Schema.optional(Schema.Number),
  /** What the server estimated the query would cost before it ran. */
  requested: Schema.optional(Schema.Number),
  /** What the query actually cost, when it ran. */
  actual: Schema.optional(Schema.Number)
}) {}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const points = (u: unknown): number | undefined => typeof u === "number" && Number.isFinite(u) && u >= 0 ? u : undefined

const make = (fields: {
  limit: number | undefined
  remaining: number
  resetMillis: number | undefined
  restoreRate: number | undefined
  requested: number | undefined
  actual: number | undefined
}) =>
  new Quota({
    remaining: fields.remaining,
    ...(fields.limit === undefined ? {} : { limit: fields.limit }),
    ...(fields.resetMillis === undefined ? {} : { reset: Duration.millis(Math.max(0, Math.ceil(fields.resetMillis))) }),
    ...(fields.restoreRate === undefined ? {} : { restoreRate: fields.restoreRate }),
    ...(fields.requested === undefined ? {} : { requested: fields.requested }),
    ...(fields.actual === undefined ? {} : { actual: fields.actual })
  })

const shopify = (extensions: unknown): Quota | undefined => {
  if (!isRecord(extensions) || !isRecord(extensions["cost"])) return undefined
  const cost = extensions["cost"]
  const status = isRecord(cost["throttleStatus"]) ? cost["throttleStatus"] : undefined
  const remaining = points(status?.["currentlyAvailable"])
  if (remaining === undefined) return undefined
  const limit = points(status?.["maximumAvailable"])
  const restoreRate = points(status?.["restoreRate"])
  const rate = restoreRate !== undefined && restoreRate > 0 ? restoreRate : undefined
  return make({
    limit,
    remaining,
    resetMillis: limit !== undefined && rate !== undefined ? (Math.max(0, limit - remaining) / rate) * 1000 : undefined,
    restoreRate: rate,
    requested: points(cost["requestedQueryCost"]),
    actual: points(cost["actualQueryCost"])
  })
}

const github = (data: unknown, nowMillis: number): Quota | undefined => {
  if (!isRecord(data) || !isRecord(data["rateLimit"])) return undefined
  const report = data["rateLimit"]
  const remaining = points(report["remaining"])
  if (remaining === undefined) return undefined
  const resetAt = typeof report["resetAt"] === "string" ? Date.parse(report["resetAt"]) : NaN
  const cost = points(report["cost"])
  return make({
    limit: points(report["limit"]),
    remaining,
    resetMillis: Number.isFinite(resetAt) ? resetAt - nowMillis : undefined,
    restoreRate: undefined,
    requested: cost,
    actual: cost
  })
}

/**
 * Reads the cost report of a parsed GraphQL response body (`{ data, errors,
 * extensions }`), Shopify's or GitHub's; `undefined` when it has none.
 * `nowMillis` (from `Clock`) turns GitHub's `resetAt` into a delay.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * import { GraphQLCost } from "@apikit/http"
 *
 * const quota = GraphQLCost.parse({
 *   data: {},
 *   extensions: { cost: { requestedQueryCost: 101, throttleStatus: { maximumAvailable: 1000, currentlyAvailable: 51, restoreRate: 50 } } }
 * }, 0)
 * // quota.remaining === 51, GraphQLCost.waitFor(quota!, 101) is 1 second
 */
export const parse = (body: unknown, nowMillis: number): Quota | undefined => {
  if (!isRecord(body)) return undefined
  return shopify(body["extensions"]) ?? github(body["data"], nowMillis)
}

/**
 * The longest wait a cost report is believed for: a day. Budgets reset hourly
 * (GitHub) or refill in seconds (Shopify); a longer wait comes from a report
 * that is wrong (a restore rate of 1e-300), not from a budget.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxCredibleWait: Duration.Duration = Duration.days(1)

/**
 * How long until `cost` points are available: zero when they are now; at the
 * restore rate for refilling budgets; at the reset otherwise. `undefined` when
 * the report does not say, when waiting cannot help (the cost is over the
 * whole budget), or when the wait is not credible (over {@link maxCredibleWait}).
 *
 * @since 0.1.0
 * @category utils
 */
export const waitFor = (quota: Quota, cost: number): Duration.Duration | undefined => {
  if (quota.remaining >= cost) return Duration.zero
  if (quota.limit !== undefined && cost > quota.limit) return undefined
  const millis = quota.restoreRate !== undefined
    ? Math.ceil(((cost - quota.remaining) / quota.restoreRate) * 1000)
    : quota.reset === undefined
    ? undefined
    : Duration.toMillis(quota.reset)
  return millis === undefined || !(millis <= Duration.toMillis(maxCredibleWait)) ? undefined : Duration.millis(millis)
}

/**
 * The quota in the shape of server rate-limit headers, for errors and limiters
 * that speak {@link RateLimitInfo}.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toRateLimitInfo = (quota: Quota): RateLimitInfo =>
  new RateLimitInfo({
    remaining: quota.remaining,
    ...(quota.limit === undefined ? {} : { limit: quota.limit }),
    ...(quota.reset === undefined ? {} : { reset: quota.reset }),
    policy: "graphql-points"
  })
