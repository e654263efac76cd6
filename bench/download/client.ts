/**
 * One client of the download benchmark, in its own process:
 * `tsx download/client.ts <client> <port> <size>`. Prints one JSON line.
 */
const [name, port, sizeArg] = process.argv.slice(2)
const size = Number(sizeArg)
const url = `http://127.0.0.1:${port}/file/${size}`
const gc = (globalThis as { gc?: () => void }).gc!
const mib = 1024 * 1024

/**
 * Downloads `target` and returns the number of bytes seen; each chunk is dropped as it arrives.
 * `seen` is told the running total after each chunk (a buffered client: once, holding the body).
 */
type Download = (target: string, seen: (bytes: number) => void) => Promise<number>

const clients: Record<string, () => Promise<Download>> = {
  "apikit api.stream": async () => {
    const { Effect, Stream } = await import("effect")
    const { ApiClient } = await import("@apikit/http")
    const UndiciHttpClient = await import("@apikit/http/UndiciHttpClient")
    return (target, seen) =>
      Effect.runPromise(
        Effect.gen(function*() {
          const { origin, pathname } = new URL(target)
          const api = yield* ApiClient.make({ baseUrl: origin })
          const response = yield* api.stream("GET", pathname)
          return yield* Stream.runFold(response.body, 0, (n, chunk) => {
            seen(n + chunk.length)
            return n + chunk.length
          })
        }).pipe(Effect.scoped, Effect.provide(UndiciHttpClient.layer))
      )
  },
  "apikit api.bytes (buffered)": async () => {
    const { Effect } = await import("effect")
    const { ApiClient } = await import("@apikit/http")
    const UndiciHttpClient = await import("@apikit/http/UndiciHttpClient")
    return (target, seen) =>
      Effect.runPromise(
        Effect.gen(function*() {
          const { origin, pathname } = new URL(target)
          const api = yield* ApiClient.make({ baseUrl: origin, maxResponseBytes: 64 * mib })
          const bytes = yield* api.bytes("GET", pathname)
          seen(bytes.length)
          return bytes.length
        }).pipe(Effect.provide(UndiciHttpClient.layer))
      )
  },
  "undici.request (body stream)": async () => {
    const { request } = await import("undici")
    return async (target, seen) => {
      const { body } = await request(target)
      let n = 0
      for await (const chunk of body) seen(n += (chunk as Buffer).length)
      return n
    }
  },
  "got.stream": async () => {
    const { default: got } = await import("got")
    return async (target, seen) => {
      let n = 0
      for await (const chunk of got.stream(target)) seen(n += (chunk as Buffer).length)
      return n
    }
  }
}

const download = await clients[name!]!()
// Warm-up: modules, JIT, a connection.
await download(url.replace(/\d+$/, String(mib)), () => {})
gc()
gc()
const base = process.memoryUsage()
const baseMem = base.heapUsed + base.external
let peakRss = base.rss
let peakMem = baseMem
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakMem = Math.max(peakMem, m.heapUsed + m.external)
}, 5)
// Half-way (or, buffered, once the body is in): what is live after a full GC.
let held = 0
const seen = (n: number) => {
  if (held !== 0 || n < size / 2) return
  gc()
  gc()
  const m = process.memoryUsage()
  held = m.heapUsed + m.external - baseMem
}
const start = performance.now()
const bytes = await download(url, seen)
const ms = performance.now() - start
clearInterval(sampler)
const end = process.memoryUsage()
peakRss = Math.max(peakRss, end.rss)
peakMem = Math.max(peakMem, end.heapUsed + end.external)
gc()
gc()
const after = process.memoryUsage()
console.log(JSON.stringify({
  client: name,
  bytes,
  ms,
  peakRssMb: (peakRss - base.rss) / mib,
  peakMemMb: (peakMem - baseMem) / mib,
  heldMb: held / mib,
  retainedMb: (after.heapUsed + after.external - baseMem) / mib
}))
process.exit(bytes === size ? 0 : 1)
