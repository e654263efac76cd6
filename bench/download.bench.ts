/**
 * Memory of a 50 MiB download, each client in its own process against a
 * node:http server in another: apikit's `api.stream` (consumed chunk by
 * chunk, as a file copy would) and `api.bytes` (buffered, for contrast) next to
 * undici's and got's streams. Reports what is held half-way through the body
 * (heap + external buffers after a full GC: the download's own footprint; for
 * the buffered client, once the body is in), the growth of peak RSS and of
 * peak heap + external over the process's baseline (sampled every 5 ms:
 * garbage included, so it depends on when V8 collects), and what stays
 * retained after the download and a GC.
 * `pnpm bench download`; the target is under 16 MB for a streamed download.
 */
import { execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))
const size = 50 * 1024 * 1024

interface Row {
  readonly client: string
  readonly bytes: number
  readonly ms: number
  readonly peakRssMb: number
  readonly peakMemMb: number
  readonly heldMb: number
  readonly retainedMb: number
}

export const run = async (): Promise<string> => {
  const server = spawn(process.execPath, [`${here}/download/server.mjs`, String(size)], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  const [chunk] = (await once(server.stdout!, "data")) as [Buffer]
  const port = chunk.toString().trim()
  const clients = [
    "apikit api.stream",
    "apikit api.bytes (buffered)",
    "undici.request (body stream)",
    "got.stream"
  ]
  const rows: Array<Row> = []
  try {
    for (const client of clients) {
      const out = execFileSync(
        process.execPath,
        ["--expose-gc", "--import", "tsx", `${here}/download/client.ts`, client, port, String(size)],
        { encoding: "utf8", cwd: here }
      )
      rows.push(JSON.parse(out.trim().split("\n").pop()!) as Row)
    }
  } finally {
    server.kill("SIGTERM")
  }
  const mb = (n: number) => n.toFixed(1)
  return [
    "## Downloads: memory of a 50 MiB body",
    "",
    "Each client in its own process, the server in another; memory is growth over the process's baseline after a warm-up download. *Held* is heap + external buffers after a full GC half-way through the body (buffered: once it is in): what the download itself keeps. *Peak* figures are sampled every 5 ms and include garbage not yet collected. *Retained* is what is left after the download and a GC. Target: a streamed download holds under 16 MB.",
    "",
    "| client | MiB read | ms | held MB | peak heap+external MB | peak RSS MB | retained MB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.client} | ${(r.bytes / 1024 / 1024).toFixed(0)} | ${Math.round(r.ms)} | ${mb(r.heldMb)} | ${
        mb(r.peakMemMb)
      } | ${mb(r.peakRssMb)} | ${mb(r.retainedMb)} |`
    ),
    ""
  ].join("\n")
}
