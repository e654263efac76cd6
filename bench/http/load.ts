/**
 * One client under load, in its own process: `tsx http/load.ts <client> <concurrency> <requests> <port>`.
 * Prints one JSON line: requests/s, p50/p99 latency (ms), peak RSS (MB) and client CPU per request (µs).
 */
import { clients } from "./clients.js"

const [name, concurrencyArg, requestsArg, portArg] = process.argv.slice(2)
const client = clients[name!]
if (client === undefined) {
  console.error(`unknown client ${name}; one of ${Object.keys(clients).join(", ")}`)
  process.exit(2)
}
const concurrency = Number(concurrencyArg)
const requests = Number(requestsArg)
const url = `http://127.0.0.1:${portArg}/v1/projects/p_1`

const run = await client(url)
// Warm-up: JIT, connection pool.
await run(Math.min(2_000, requests / 5), concurrency, [])
const latencies: Array<number> = []
const cpu = process.cpuUsage()
const start = performance.now()
await run(requests, concurrency, latencies)
const elapsed = (performance.now() - start) / 1000
const used = process.cpuUsage(cpu)
latencies.sort((a, b) => a - b)
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!
console.log(JSON.stringify({
  client: name,
  concurrency,
  requests,
  rps: requests / elapsed,
  p50: pct(0.5),
  p99: pct(0.99),
  rssMb: process.resourceUsage().maxRSS / 1024,
  // CPU of this process (all threads, GC included) per request: what the client costs.
  cpuUs: (used.user + used.system) / requests
}))
process.exit(0)
