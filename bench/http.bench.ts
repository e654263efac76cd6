/**
 * HTTP requests/s and latency per client against a node:http server in another
 * process, each client in its own process (so peak RSS and CPU are its own).
 * `pnpm bench http`; HTTP_REQUESTS sets requests per run (default 20,000),
 * HTTP_ROUNDS the runs per client (default 3, interleaved; the median run is
 * reported, so one noisy moment does not decide a ratio), HTTP_CLIENTS a
 * comma-separated list of name parts to run only some clients.
 *
 * apikit is loaded from each package's `dist/` (`pnpm bench` builds first, and
 * without the `@apikit/source` condition `@apikit/*` resolves to the build), as
 * an installed package runs: tsx's keepNames transform on the sources costs
 * ~10% per request on its own.
 */
import { execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { clients } from "./http/clients.js"

const here = fileURLToPath(new URL(".", import.meta.url))
const requests = Number(process.env["HTTP_REQUESTS"] ?? 20_000)
const rounds = Number(process.env["HTTP_ROUNDS"] ?? 3)
// HTTP_CLIENTS="undici.request,full pipeline" runs only the clients whose names contain one of these.
const only = process.env["HTTP_CLIENTS"]?.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
const selected = Object.keys(clients).filter((name) => only === undefined || only.some((o) => name.includes(o)))

interface Row {
  readonly client: string
  readonly concurrency: number
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly rssMb: number
  readonly cpuUs: number
}

/** The run with the median requests/s. */
const median = (runs: ReadonlyArray<Row>): Row => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!

/** A horizontal bar chart of requests/s per client, one group per concurrency. */
export const svgChart = (rows: ReadonlyArray<Pick<Row, "client" | "concurrency" | "rps">>): string => {
  const groups = [...new Set(rows.map((r) => r.concurrency))]
  const max = Math.max(...rows.map((r) => r.rps))
  const barHeight = 18
  const labelWidth = 330
  const chartWidth = 420
  const lines: Array<string> = []
  let y = 30
  for (const concurrency of groups) {
    lines.push(`<text x="10" y="${y}" font-weight="bold">concurrency ${concurrency}</text>`)
    y += 10
    for (const r of rows.filter((x) => x.concurrency === concurrency)) {
      const width = Math.max(1, Math.round((r.rps / max) * chartWidth))
      const fill = r.client.startsWith("apikit") ? "#2f6fde" : "#9aa5b1"
      lines.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${
          r.client.replace(/&/g, "&amp;").replace(/</g, "&lt;")
        }</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${width}" height="${barHeight - 4}" fill="${fill}"/>`,
        `<text x="${labelWidth + width + 6}" y="${y + 13}">${Math.round(r.rps).toLocaleString("en-US")}</text>`
      )
      y += barHeight
    }
    y += 20
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      labelWidth + chartWidth + 90
    }" height="${y}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="16" font-size="14">HTTP requests/s per client (small JSON, keep-alive; apikit in blue)</text>`,
    ...lines,
    "</svg>"
  ].join("\n")
}

export const run = async (): Promise<string> => {
  const server = spawn(process.execPath, [`${here}/http/server.mjs`], { stdio: ["ignore", "pipe", "inherit"] })
  const [chunk] = (await once(server.stdout!, "data")) as [Buffer]
  const port = chunk.toString().trim()
  const rows: Array<Row> = []
  try {
    for (const concurrency of [1, 64]) {
      const count = concurrency === 1 ? Math.max(1_000, requests / 4) : requests
      const runs = new Map<string, Array<Row>>()
      // Interleaved: every client runs once per round, so a slow moment of the machine hits all of them.
      for (let round = 0; round < rounds; round++) {
        for (const name of selected) {
          const out = execFileSync(
            process.execPath,
            [
              "--import",
              "tsx",
              `${here}/http/load.ts`,
              name,
              String(concurrency),
              String(count),
              port
            ],
            { encoding: "utf8", cwd: here }
          )
          const row = JSON.parse(out.trim().split("\n").pop()!) as Row
          runs.set(name, [...(runs.get(name) ?? []), row])
        }
      }
      for (const name of selected) rows.push(median(runs.get(name)!))
    }
  } finally {
    server.kill("SIGTERM")
  }
  mkdirSync(`${here}/results`, { recursive: true })
  writeFileSync(`${here}/results/http.svg`, svgChart(rows))
  const lines = [
    "## HTTP: small JSON over keep-alive, node:http server in another process",
    "",
    "![requests/s per client](http.svg)",
    "",
    `${requests} requests per client at concurrency 64 (a quarter of that at 1), after a warm-up; the median of ${rounds} interleaved runs per client. Promise clients run as many async workers as the concurrency, Effect clients as many worker fibers (the "a fiber per request" row forks one per request with \`Effect.forEach\` instead). CPU is the client process's own (all threads, GC included) per request.`,
    ""
  ]
  for (const concurrency of [1, 64]) {
    const at = rows.filter((r) => r.concurrency === concurrency)
    const undici = at.find((r) => r.client === "undici.request")!.rps
    const platform = at.find((r) => r.client === "NodeHttpClient (plain)")!.rps
    lines.push(
      `### concurrency ${concurrency}`,
      "",
      "| client | req/s | vs undici | vs NodeHttpClient | CPU µs/req | p50 ms | p99 ms | peak RSS MB |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...at.map((r) =>
        `| ${r.client} | ${Math.round(r.rps)} | ${(r.rps / undici).toFixed(2)}x | ${(r.rps / platform).toFixed(2)}x | ${
          r.cpuUs.toFixed(1)
        } | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.rssMb)} |`
      ),
      ""
    )
  }
  return lines.join("\n")
}
