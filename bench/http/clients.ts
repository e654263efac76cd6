/**
 * The HTTP clients compared by `pnpm bench http`, each driven the way its
 * users drive it: promise clients by async worker loops, Effect clients by as
 * many worker fibers inside one runtime (and once more, for the full pipeline,
 * by `Effect.forEach` with a fiber per request).
 *
 * Every factory imports only what its client needs (dynamic imports), so the
 * peak RSS of a run is that client's own.
 */
import type { Effect as E, ManagedRuntime as MR, Schema as S } from "effect"

/** Runs `count` requests at `concurrency`, pushing each latency (ms) into `latencies`. */
export type Driver = (count: number, concurrency: number, latencies: Array<number>) => Promise<void>

const promiseDriver = (one: () => Promise<unknown>): Driver => async (count, concurrency, latencies) => {
  let started = 0
  const worker = async () => {
    while (started < count) {
      started++
      const t = performance.now()
      await one()
      latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/**
 * Effect clients: `concurrency` worker fibers (`workers.ts`), the way `promiseDriver`'s
 * async workers run. With
 * `fiberPerRequest`, `Effect.forEach` forks a fiber for every request instead (what an app
 * that starts each call in its own fiber pays; the difference is the fork, not the client).
 */
const effectDriver = async <R, Er>(
  runtime: MR.ManagedRuntime<R, Er>,
  one: E.Effect<unknown, unknown, R>,
  fiberPerRequest = false
): Promise<Driver> => {
  const { Effect } = await import("effect")
  const { workerFibers } = await import("./workers.js")
  let latencies: Array<number> = []
  const timed = Effect.suspend(() => {
    const t = performance.now()
    return Effect.map(one, () => void latencies.push(performance.now() - t))
  })
  return (count, concurrency, into) => {
    latencies = into
    if (fiberPerRequest) {
      return runtime.runPromise(
        Effect.forEach(Array.from({ length: count }), () => timed, { concurrency, discard: true })
      )
    }
    return runtime.runPromise(workerFibers(timed, count, concurrency))
  }
}

const project = async () => {
  const { Schema } = await import("effect")
  return Schema.Struct({
    id: Schema.String,
    name: Schema.String,
    tags: Schema.Array(Schema.String),
    active: Schema.Boolean,
    count: Schema.Number
  }) satisfies S.Schema<any, any, never>
}

// The same keep-alive pool size for every undici-based client (NodeHttpClient.layerUndici
// and UndiciHttpClient.layer use the global dispatcher too).
const undici = async () => {
  const module = await import("undici")
  module.setGlobalDispatcher(new module.Agent({ connections: 128 }))
  return module
}

const apikitNoPolicies = (transport: "node" | "undici") => async (url: string) => {
  await undici()
  const { ManagedRuntime } = await import("effect")
  const { ApiClient } = await import("@apikit/http")
  const layer = transport === "node"
    ? (await import("@effect/platform-node/NodeHttpClient")).layerUndici
    : (await import("@apikit/http/UndiciHttpClient")).layer
  const runtime = ManagedRuntime.make(layer)
  const base = new URL(url)
  const api = await runtime.runPromise(ApiClient.make({ baseUrl: base.origin }))
  return effectDriver(runtime, api.get(base.pathname, { success: await project() }))
}

// What a production integration runs: OAuth2 client credentials (the token is fetched
// once, then served from the cache), a permissive limiter, a closed breaker,
// transient retries, attempt and total timeouts and a Schema-decoded body. `generic`
// wraps the UndiciHttpClient, so attempts run behind the generic transport instead of dispatch.
const apikitFullPipeline = (generic: boolean, fiberPerRequest = false) => async (url: string) => {
  await undici()
  const { Effect, Layer, ManagedRuntime, Redacted } = await import("effect")
  const { ApiClient } = await import("@apikit/http")
  const UndiciHttpClient = await import("@apikit/http/UndiciHttpClient")
  const { OAuth2, TokenStore } = await import("@apikit/auth")
  const { RateLimit } = await import("@apikit/rate-limit")
  const { CircuitBreaker, CircuitBreakerStore } = await import("@apikit/circuit-breaker")
  const { Retry } = await import("@apikit/retry")
  const HttpClient = await import("@effect/platform/HttpClient")
  const transport = generic
    ? Layer.succeed(HttpClient.HttpClient, HttpClient.mapRequest(UndiciHttpClient.make(), (r) => r))
    : UndiciHttpClient.layer
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(
      transport,
      TokenStore.layerMemory,
      RateLimit.layerMemory,
      CircuitBreakerStore.layerMemory
    )
  )
  const base = new URL(url)
  const api = await runtime.runPromise(Effect.gen(function*() {
    return yield* ApiClient.make({
      baseUrl: base.origin,
      auth: yield* OAuth2.clientCredentials({
        tokenUrl: `${base.origin}/oauth/token`,
        clientId: "bench",
        clientSecret: Redacted.make("bench-secret")
      }),
      rateLimit: yield* RateLimit.make({ limit: 1_000_000_000, window: "1 second" }),
      circuitBreaker: yield* CircuitBreaker.make(),
      retry: Retry.transient(),
      timeout: { attempt: "5 seconds", total: "30 seconds" }
    })
  }))
  return effectDriver(runtime, api.get(base.pathname, { success: await project() }), fiberPerRequest)
}

export const clients: Record<string, (url: string) => Promise<Driver>> = {
  "undici.request": async (url) => {
    const { request } = await undici()
    return promiseDriver(async () => {
      const { body } = await request(url)
      return body.json()
    })
  },

  // undici's lowest-level API with a handler that collects the body: the floor under
  // undici.request, and what apikit's ApiClient runs its attempts on.
  "undici.dispatch (raw handler)": async (url) => {
    const { getGlobalDispatcher } = await undici()
    const dispatcher = getGlobalDispatcher()
    const { origin, pathname } = new URL(url)
    return promiseDriver(() =>
      new Promise((resolve, reject) => {
        const chunks: Array<Buffer> = []
        dispatcher.dispatch({ origin, path: pathname, method: "GET" }, {
          // Its presence marks the handler as undici 7's controller API.
          onRequestStart: () => {},
          onResponseData: (_controller, chunk) => void chunks.push(chunk),
          onResponseEnd: () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))),
          onResponseError: (_controller, error) => reject(error)
        })
      })
    )
  },

  "NodeHttpClient (plain)": async (url) => {
    await undici()
    const { Effect, ManagedRuntime } = await import("effect")
    const NodeHttpClient = await import("@effect/platform-node/NodeHttpClient")
    const HttpClient = await import("@effect/platform/HttpClient")
    const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
    return effectDriver(runtime, Effect.flatMap(HttpClient.get(url), (r) => r.json))
  },

  "NodeHttpClient + retry + decode": async (url) => {
    await undici()
    const { Effect, ManagedRuntime, Schema } = await import("effect")
    const NodeHttpClient = await import("@effect/platform-node/NodeHttpClient")
    const HttpClient = await import("@effect/platform/HttpClient")
    const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
    const decode = Schema.decodeUnknown(await project())
    return effectDriver(
      runtime,
      Effect.flatMap(
        HttpClient.HttpClient,
        (client) =>
          client.pipe(HttpClient.filterStatusOk, HttpClient.retryTransient({ times: 3 })).get(url).pipe(
            Effect.flatMap((r) => r.json),
            Effect.flatMap(decode)
          )
      )
    )
  },

  "apikit ApiClient (no policies)": apikitNoPolicies("node"),

  "apikit ApiClient (no policies) + UndiciHttpClient": apikitNoPolicies("undici"),

  "apikit ApiClient (full pipeline)": apikitFullPipeline(false),

  "apikit ApiClient (full pipeline), generic transport": apikitFullPipeline(true),

  "apikit ApiClient (full pipeline), a fiber per request": apikitFullPipeline(false, true),

  got: async (url) => {
    const { default: got } = await import("got")
    return promiseDriver(() => got(url).json())
  },

  ky: async (url) => {
    const { default: ky } = await import("ky")
    return promiseDriver(() => ky.get(url, { retry: 0 }).json())
  },

  axios: async (url) => {
    const { default: axios } = await import("axios")
    return promiseDriver(() => axios.get(url))
  },

  "cockatiel(retry+breaker+timeout) + undici": async (url) => {
    const { request } = await undici()
    const { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, retry, timeout, TimeoutStrategy, wrap } =
      await import("cockatiel")
    const policy = wrap(
      retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
      circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
      timeout(5_000, TimeoutStrategy.Aggressive)
    )
    return promiseDriver(() =>
      policy.execute(async ({ signal }) => {
        const { body } = await request(url, { signal })
        return body.json()
      })
    )
  }
}
