/**
 * Text for the terminal: the progress bar and the summary table.
 *
 * @internal
 */
import type * as Demo from "../Demo.js"

/** `[██████░░░░]  120/200 created  0 failed  150 attempts  2×429`, `width` cells of bar. @internal */
export const progressBar = (p: Demo.Progress, width = 30): string => {
  const done = p.created + p.failed
  const filled = p.total === 0 ? width : Math.floor((done / p.total) * width)
  const bar = "█".repeat(filled) + "░".repeat(width - filled)
  return `[${bar}] ${
    String(p.created).padStart(String(p.total).length)
  }/${p.total} created  ${p.failed} failed  ${p.attempts} attempts  ${p.rateLimited}×429`
}

/** One plain line, for logs and pipes. @internal */
export const progressLine = (p: Demo.Progress, elapsedSeconds: number): string =>
  `${
    elapsedSeconds.toFixed(0).padStart(3)
  }s  ${p.created}/${p.total} created, ${p.failed} failed, ${p.attempts} attempts, ${p.rateLimited} 429s`

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`

/** The summary as an aligned two-column table, with ✓/✗ on the invariants. @internal */
export const table = (s: Demo.Summary): string => {
  const ok = (good: boolean) => (good ? "✓" : "✗")
  const failures = Object.entries(s.failures).map(([tag, n]) => `${n} ${tag}`).join(", ")
  const rows: Array<readonly [string, string]> = [
    [
      "projects created",
      `${s.created}/${s.count} ${ok(s.created === s.count)}${failures === "" ? "" : ` (${failures})`}`
    ],
    [
      "attempts",
      `${s.attempts} (${s.retries} retries, ${s.tokenRequests} token request${s.tokenRequests === 1 ? "" : "s"})`
    ],
    [
      "faults met",
      `${s.faultsSeen.serverErrors} 5xx, ${s.faultsSeen.transportErrors} resets, ${s.faultsSeen.timedOut} timeouts`
    ],
    ["429s received", `${s.rateLimited} (server bursts: ${s.server.faults.bursts})`],
    [
      "breaker transitions",
      s.breakerTransitions.length === 0
        ? "0 (stayed closed)"
        : `${s.breakerTransitions.length}: ${s.breakerTransitions.join(", ")}`
    ],
    [
      "webhooks verified",
      `${s.webhooks.verified}/${s.created} ${
        ok(s.webhooks.missing === 0 && s.webhooks.rejected === 0)
      } (${s.webhooks.rejected} rejected)`
    ],
    ["duplicates", `${s.duplicates} ${ok(s.duplicates === 0)} (${s.server.idempotentReplays} idempotent replays)`],
    [
      "max request rate",
      `${s.maxRate}/s of ${s.limit}/s allowed ${ok(s.maxRate <= s.limit)} (client paced at ${s.clientLimit}/s)`
    ],
    ["elapsed", seconds(s.elapsedMillis)]
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  const lines = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
  const verdict = s.violations.length === 0
    ? "all invariants held"
    : `${s.violations.length} invariant(s) failed:\n${s.violations.map((v) => `  ✗ ${v}`).join("\n")}`
  return `${lines.join("\n")}\n\n${verdict}`
}
