/**
 * HTTP requests/s and latency per client against a node:http server in another
 * process, each client in its own process (so peak RSS is its own).
 * `pnpm bench http`; HTTP_REQUESTS sets requests per run (default 20,000).
 */
import { execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import { clients } from "./http/clients.js"

const here = fileURLToPath(new URL(".", import.meta.url))
const requests = Number(process.env["HTTP_REQUESTS"] ?? 20_000)
const tsx = `${here}/../node_modules/.bin/tsx`

interface Row {
  readonly client: string
  readonly concurrency: number
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly rssMb: number
}

export const run = async (): Promise<string> => {
  const server = spawn(process.execPath, [`${here}/http/server.mjs`], { stdio: ["ignore", "pipe", "inherit"] })
  const [chunk] = (await once(server.stdout!, "data")) as [Buffer]
  const port = chunk.toString().trim()
  const rows: Array<Row> = []
  try {
    for (const concurrency of [1, 64]) {
      for (const name of Object.keys(clients)) {
        const count = concurrency === 1 ? Math.max(1_000, requests / 4) : requests
        const out = execFileSync(tsx, [`${here}/http/load.ts`, name, String(concurrency), String(count), port], {
          encoding: "utf8"
        })
        rows.push(JSON.parse(out.trim().split("\n").pop()!) as Row)
      }
    }
  } finally {
    server.kill("SIGTERM")
  }
  const lines = [
    "## HTTP: small JSON over keep-alive, node:http server in another process",
    "",
    `${requests} requests per client at concurrency 64 (a quarter of that at 1), after a warm-up.`,
    ""
  ]
  for (const concurrency of [1, 64]) {
    const at = rows.filter((r) => r.concurrency === concurrency)
    const undici = at.find((r) => r.client === "undici.request")!.rps
    const platform = at.find((r) => r.client === "NodeHttpClient (plain)")!.rps
    lines.push(
      `### concurrency ${concurrency}`,
      "",
      "| client | req/s | vs undici | vs NodeHttpClient | p50 ms | p99 ms | peak RSS MB |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...at.map((r) =>
        `| ${r.client} | ${Math.round(r.rps)} | ${(r.rps / undici).toFixed(2)}x | ${(r.rps / platform).toFixed(2)}x | ${
          r.p50.toFixed(2)
        } | ${r.p99.toFixed(2)} | ${Math.round(r.rssMb)} |`
      ),
      ""
    )
  }
  return lines.join("\n")
}
