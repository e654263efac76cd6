/**
 * Fault configuration: validation, the `--faults` syntax, and the roll that
 * decides what happens to one request.
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { Faults } from "../../Sandbox.js"

/**
 * Options that are not valid: a non-positive rate limit, a negative lifetime, too few webhook attempts.
 *
 * @since 0.1.0
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>("@apikit/testing/InvalidOptions")(
  "InvalidOptions",
  { detail: Schema.String }
) {
  override get message(): string {
    return `Invalid sandbox options: ${this.detail}.`
  }
}

/**
 * Faults that are not valid: a rate outside [0, 1], exclusive rates adding up to more
 * than 1, or a `--faults` string that does not parse.
 *
 * @since 0.1.0
 */
export class InvalidFaults extends Schema.TaggedError<InvalidFaults>("@apikit/testing/InvalidFaults")(
  "InvalidFaults",
  { detail: Schema.String }
) {
  override get message(): string {
    return `Invalid sandbox faults: ${this.detail}. ` +
      "Use rates in [0, 1], e.g. \"5xx=0.1,reset=0.02,hang=0.01,burst=0.01,latency=200ms\"."
  }
}

/** Faults with defaults filled in and latency in milliseconds. @internal */
export interface Resolved {
  readonly errorRate: number
  readonly resetRate: number
  readonly resetAfterProcessing: number
  readonly hangRate: number
  readonly burstRate: number
  readonly burstLength: number
  readonly latencyMillis: number
  readonly latencyRate: number
}

const rates = ["errorRate", "resetRate", "resetAfterProcessing", "hangRate", "burstRate", "latencyRate"] as const

/** @internal */
export const resolve = (faults: Faults): Effect.Effect<Resolved, InvalidFaults> =>
  Effect.suspend(() => {
    for (const name of rates) {
      const value = faults[name]
      if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
        return Effect.fail(new InvalidFaults({ detail: `${name} must be a number in [0, 1], got ${value}` }))
      }
    }
    const exclusive = (faults.errorRate ?? 0) + (faults.resetRate ?? 0) + (faults.hangRate ?? 0) +
      (faults.burstRate ?? 0)
    if (exclusive > 1 + 1e-9) {
      return Effect.fail(
        new InvalidFaults({ detail: `5xx, reset, hang and burst rates add up to ${exclusive}, more than 1` })
      )
    }
    const burstLength = faults.burstLength ?? 5
    if (!Number.isInteger(burstLength) || burstLength < 1 || burstLength > 10_000) {
      return Effect.fail(
        new InvalidFaults({ detail: `burstLength must be an integer in [1, 10000], got ${burstLength}` })
      )
    }
    const latency = faults.latency === undefined ? Option.some(Duration.zero) : Duration.decodeUnknown(faults.latency)
    if (Option.isNone(latency) || !Duration.isFinite(latency.value)) {
      return Effect.fail(new InvalidFaults({ detail: "latency must be a finite duration" }))
    }
    return Effect.succeed({
      errorRate: faults.errorRate ?? 0,
      resetRate: faults.resetRate ?? 0,
      resetAfterProcessing: faults.resetAfterProcessing ?? 0.5,
      hangRate: faults.hangRate ?? 0,
      burstRate: faults.burstRate ?? 0,
      burstLength,
      latencyMillis: Duration.toMillis(latency.value),
      latencyRate: faults.latencyRate ?? 1
    })
  })

const keys: Record<string, keyof Faults> = {
  "5xx": "errorRate",
  "error": "errorRate",
  "reset": "resetRate",
  "reset-after": "resetAfterProcessing",
  "hang": "hangRate",
  "burst": "burstRate",
  "burst-length": "burstLength",
  "latency": "latency",
  "latency-rate": "latencyRate"
}

const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/

/** @internal */
export const parse = (input: string): Effect.Effect<Faults, InvalidFaults> =>
  Effect.suspend(() => {
    const trimmed = input.trim()
    if (trimmed === "" || trimmed === "none") return Effect.succeed({})
    const out: Record<string, number | Duration.Duration> = {}
    for (const part of trimmed.split(",")) {
      const eq = part.indexOf("=")
      const key = keys[(eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()]
      const value = eq < 0 ? "" : part.slice(eq + 1).trim()
      const shown = part.trim().slice(0, 40)
      if (key === undefined) {
        return Effect.fail(
          new InvalidFaults({ detail: `unknown fault "${shown}"; known: ${Object.keys(keys).join(", ")}` })
        )
      }
      if (key === "latency") {
        const m = durationPattern.exec(value)
        if (m === null) {
          return Effect.fail(new InvalidFaults({ detail: `latency must look like 200ms or 1.5s, got "${shown}"` }))
        }
        out[key] = m[2] === "s" ? Duration.millis(Number(m[1]) * 1000) : Duration.millis(Number(m[1]))
      } else {
        const n = value === "" ? NaN : Number(value)
        if (!Number.isFinite(n)) {
          return Effect.fail(new InvalidFaults({ detail: `"${shown}" needs a number value` }))
        }
        out[key] = n
      }
    }
    const faults = out as Faults
    return Effect.as(resolve(faults), faults)
  })

/** What happens to one request. @internal */
export type Outcome = "none" | "error" | "reset" | "resetAfter" | "hang" | "burst"

/** @internal */
export const anyExclusive = (faults: Resolved): boolean =>
  faults.resetRate + faults.hangRate + faults.errorRate + faults.burstRate > 0

/**
 * One roll in [0, 1) decides the exclusive outcome; whether a reset comes after
 * processing is rolled separately by the caller.
 *
 * @internal
 */
export const outcome = (faults: Resolved, roll: number): Exclude<Outcome, "resetAfter"> => {
  let edge = faults.resetRate
  if (roll < edge) return "reset"
  edge += faults.hangRate
  if (roll < edge) return "hang"
  edge += faults.errorRate
  if (roll < edge) return "error"
  edge += faults.burstRate
  if (roll < edge) return "burst"
  return "none"
}
