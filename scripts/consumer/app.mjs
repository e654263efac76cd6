// A user's app in plain JavaScript (ESM), run with plain `node` against the installed packages:
// ApiClient with auth, retry, rate limit, circuit breaker and timeouts against a local server.
import { Auth, TokenStore } from "@apikit/auth"
import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { RateLimit } from "@apikit/rate-limit"
import { Retry } from "@apikit/retry"
import { Effect, Layer, Redacted, Schema } from "effect"
import { once } from "node:events"
import { createServer } from "node:http"

// The provider: the first request fails with 503, later ones answer when the key is right.
let requests = 0
const server = createServer((req, res) => {
  requests++
  if (requests === 1) return res.writeHead(503).end()
  if (req.headers["x-api-key"] !== "sk_test_consumer") return res.writeHead(401).end()
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: "p_1", name: "Apollo" }))
})
server.listen(0, "127.0.0.1")
await once(server, "listening")
const { port } = server.address()

const Project = Schema.Struct({ id: Schema.String, name: Schema.String })

const program = Effect.gen(function*() {
  const api = yield* ApiClient.make({
    baseUrl: `http://127.0.0.1:${port}/v1`,
    auth: Auth.apiKey({ header: "X-API-Key", value: Redacted.make("sk_test_consumer") }),
    retry: Retry.transient({ times: 3, base: "10 millis" }),
    rateLimit: yield* RateLimit.make({ limit: 10, window: "1 second" }),
    circuitBreaker: yield* CircuitBreaker.make({ trip: CircuitBreaker.consecutive(5) }),
    timeout: { attempt: "2 seconds", total: "10 seconds" }
  })
  const project = yield* api.get("/projects/p_1", { success: Project })
  const missing = yield* Effect.flip(
    ApiClient.make({ baseUrl: `http://127.0.0.1:${port}/v1` }).pipe(Effect.flatMap((bare) => bare.get("/projects/p_1")))
  )
  return { project, missing: missing._tag }
}).pipe(
  Effect.provide(
    Layer.mergeAll(
      UndiciHttpClient.layer,
      TokenStore.layerMemory,
      RateLimit.layerMemory,
      CircuitBreakerStore.layerMemory
    )
  )
)

const result = await Effect.runPromise(program).finally(() => server.close())
const expected = JSON.stringify({ project: { id: "p_1", name: "Apollo" }, missing: "Unauthorized" })
if (JSON.stringify(result) !== expected || requests !== 3) {
  console.error(`unexpected result ${JSON.stringify(result)} after ${requests} requests; expected ${expected} after 3`)
  process.exit(1)
}
console.log(`ok: ${JSON.stringify(result)} after ${requests} requests (one 503 retried)`)
