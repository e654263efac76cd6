/**
 * multi-instance: three instances of one app share a quota, a circuit, an
 * OAuth token and a webhook stream through Redis, against the Sandbox.
 *
 * Each instance is a fiber with its own Redis connection and its own stores,
 * exactly as separate processes or machines would have (see the multi-process
 * test in packages/redis for the same with real processes). It prints what
 * each instance did and what the sandbox saw.
 *
 * Needs Redis: `REDIS_URL` (default redis://127.0.0.1:6379). Its keys live
 * under a fresh prefix and are deleted at the end.
 *
 * Run it: `pnpm example multi-instance`
 */
import { OAuth2 } from "@apikit/auth"
import { CircuitBreaker } from "@apikit/circuit-breaker"
import { ApiClient } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { Redis, RedisStores } from "@apikit/redis"
import { Sandbox } from "@apikit/testing"
import { ReplayGuard } from "@apikit/webhooks"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Clock, Config, Console, Context, Duration, Effect, Layer, Redacted } from "effect"

const instances = ["a", "b", "c"] as const
const callsEach = 3
/** The provider allows 5 requests per second for the whole app, all instances together. */
const perSecond = 5

/** One app instance: its own connection, stores and ApiClient; only Redis is shared. */
const instance = (name: string, sandbox: Sandbox.Sandbox["Type"], url: Redacted.Redacted<string>, prefix: string) =>
  Effect.gen(function*() {
    const layer = Layer.merge(
      RedisStores.layer().pipe(Layer.provideMerge(Redis.layer({ url, prefix }))),
      NodeHttpClient.layerUndici
    )
    const context = yield* Layer.build(layer)
    const build = Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ key: "sandbox" })
      const api = yield* ApiClient.make({
        baseUrl: sandbox.baseUrl,
        name: "sandbox",
        auth: yield* OAuth2.clientCredentials({
          tokenUrl: `${sandbox.baseUrl}/oauth/token`,
          clientId: Sandbox.defaultClient.clientId,
          clientSecret: Redacted.make(Sandbox.defaultClient.clientSecret)
        }),
        // One permit every 220 ms for everyone: no bursts, and 10% headroom, so that network
        // jitter cannot squeeze a 6th request into the provider's second.
        rateLimit: yield* RateLimit.make({ key: "sandbox", limit: 1, window: Duration.millis(1100 / perSecond) }),
        circuitBreaker: breaker
      })
      return { name, api, breaker, replay: yield* ReplayGuard.ReplayGuard }
    })
    return yield* Effect.provide(build, context)
  })

type Instance = Effect.Effect.Success<ReturnType<typeof instance>>

const callsOf = (i: Instance, n: number) =>
  Effect.forEach(
    Array.from({ length: n }),
    () => i.api.get("/v1/projects").pipe(Effect.as("ok"), Effect.catchAll((e) => Effect.succeed(e._tag))),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((tags) => {
    const ok = tags.filter((t) => t === "ok").length
    return ok === n ? `${n} ok` : `${ok} ok, failed: ${tags.filter((t) => t !== "ok").join(", ")}`
  }))

/** Deletes the example's keys (SCAN under its prefix; never FLUSH a shared Redis). */
const cleanUp = (client: Context.Tag.Service<Redis.Redis>["client"], prefix: string) =>
  Effect.promise(async () => {
    let cursor = "0"
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== "0")
  })

export const program = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const url = yield* Config.withDefault(Config.redacted("REDIS_URL"), Redacted.make(Redis.defaultUrl))
  const prefix = `apikit-example:${yield* Clock.currentTimeMillis}:`
  const admin = yield* Effect.map(Layer.build(Redis.layer({ url, prefix })), Context.get(Redis.Redis))
  yield* Effect.addFinalizer(() => cleanUp(admin.client, prefix))
  const all = yield* Effect.forEach(instances, (name) => instance(name, sandbox, url, prefix))
  const lines: Array<string> = []
  const say = (line: string) => Effect.sync(() => lines.push(line)).pipe(Effect.zipRight(Console.log(`  ${line}`)))
  yield* Console.log(`apikit multi-instance: ${all.length} instances, Redis at ${Redis.maskUrl(Redacted.value(url))}`)

  // 1. All instances start at once and need a token: one of them fetches it, the others read it.
  const started = yield* Effect.forEach(all, (i) => callsOf(i, 1), { concurrency: "unbounded" })
  for (const [k, i] of all.entries()) yield* say(`instance ${i.name} started: ${started[k]}`)
  yield* say(`sandbox: ${(yield* sandbox.stats).tokensIssued} token issued for ${all.length} instances`)
  // (A second apart, so the sandbox's busiest second below holds only the next burst of calls.)
  yield* Effect.sleep("1100 millis")

  // 2. All instances call at once: one quota for all.
  const results = yield* Effect.forEach(all, (i) => callsOf(i, callsEach), { concurrency: "unbounded" })
  for (const [k, i] of all.entries()) yield* say(`instance ${i.name}: ${results[k]}`)
  const stats = yield* sandbox.stats
  const max = stats.maxRequestRate[Sandbox.defaultClient.clientId] ?? 0
  yield* say(
    `sandbox: at most ${max} requests in any second (shared limit ${perSecond}/s), ${stats.rateLimited} rejected`
  )

  // 3. One instance isolates the provider (say, during its maintenance): all of them stop calling it.
  const [first, ...rest] = all
  yield* first!.breaker.isolate()
  const before = (yield* sandbox.stats).requests
  for (const i of rest) {
    yield* say(`instance ${i.name}, after ${first!.name} isolated the circuit: ${yield* callsOf(i, 1)}`)
  }
  yield* say(`sandbox: ${(yield* sandbox.stats).requests - before} requests while isolated`)
  yield* first!.breaker.reset()

  // 4. A webhook delivery reaches every instance (a provider retry, a load balancer): it is processed once.
  const claims = yield* Effect.forEach(all, (i) => i.replay.claim("svix:msg_1", Duration.minutes(5)))
  yield* say(
    `webhook msg_1 delivered to ${all.length} instances: processed ${claims.filter((seen) => !seen).length} time(s), ${
      claims.filter((seen) => seen).length
    } replay(s) answered 200`
  )
  return lines
}).pipe(Effect.scoped)

/** The program with the Sandbox on 127.0.0.1 (real time, real sockets). */
export const main = program.pipe(Effect.provide(Sandbox.layer({})))
