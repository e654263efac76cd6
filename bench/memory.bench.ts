/**
 * Memory: 10,000 calls queued behind a limiter that admits none of them yet.
 * Reports heap and RSS growth per queued call (after a forced GC), and a leak
 * check: three rounds of queue-then-interrupt, with what is still held after
 * rounds 2 and 3 compared to round 1 (a leak grows; a high-water mark does not).
 * `pnpm bench memory`.
 */
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { MockHttp } from "@apikit/testing"
import { Effect, Fiber, Layer } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const queued = 10_000
const rounds = 3

const measure = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

export const run = async (): Promise<string> => {
  const layers = Layer.merge(MockHttp.layer([MockHttp.get("/x", MockHttp.json(200, {}))]), RateLimit.layerMemory)
  const result = await Effect.runPromise(
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.example.com",
        rateLimit: yield* RateLimit.make({ limit: 1, window: "1 hour", maxWait: "2 hours" })
      })
      yield* api.get("/x") // takes the one permit: everything after this waits
      const before = measure()
      const queuedAt: Array<{ heap: number; rss: number }> = []
      const releasedAt: Array<{ heap: number; rss: number }> = []
      for (let round = 0; round < rounds; round++) {
        const fibers = yield* Effect.forEach(Array.from({ length: queued }), () => Effect.fork(api.get("/x")))
        yield* Effect.yieldNow()
        queuedAt.push(measure())
        yield* Effect.forEach(fibers, Fiber.interrupt, { concurrency: "unbounded" })
        fibers.length = 0 // the bench's own references, so what remains is the library's
        releasedAt.push(measure())
      }
      return { before, queuedAt, releasedAt }
    }).pipe(Effect.provide(layers))
  )
  const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`
  const { before, queuedAt, releasedAt } = result
  return [
    "## Memory: calls queued behind a limiter",
    "",
    `${queued} calls waiting for a permit (limit 1 per hour), measured after a forced GC.`,
    "",
    "| | heap | RSS |",
    "| --- | ---: | ---: |",
    `| growth per queued call | ${((queuedAt[0]!.heap - before.heap) / queued).toFixed(0)} B | ${
      ((queuedAt[0]!.rss - before.rss) / queued).toFixed(0)
    } B |`,
    `| held after interrupting them (round 1, a high-water mark) | ${kib(releasedAt[0]!.heap - before.heap)} | ${
      kib(releasedAt[0]!.rss - before.rss)
    } |`,
    ...releasedAt.slice(1).map((m, i) =>
      `| leak check: held after round ${i + 2} minus round 1 | ${kib(m.heap - releasedAt[0]!.heap)} | ${
        kib(m.rss - releasedAt[0]!.rss)
      } |`
    ),
    ""
  ].join("\n")
}
