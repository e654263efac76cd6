/**
 * The flagship demo behind `apikit demo` (and `pnpm start`): against an
 * embedded Sandbox with faults on, it creates many projects concurrently
 * through the full apikit pipeline (OAuth2 client credentials, idempotency
 * keys, transient retry, an adaptive client-side limiter just under the
 * server's limit, a circuit breaker, attempt and total timeouts), receives and
 * verifies the sandbox's webhooks on a local receiver, and returns a
 * {@link Summary} whose `violations` say which invariant, if any, failed.
 *
 * @since 0.1.0
 * @example
 * import * as Demo from "@apikit/cli/Demo"
 * import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
 * import { Effect } from "effect"
 *
 * const program = Demo.run({ count: 20, seed: 7 }).pipe(
 *   Effect.flatMap(Demo.check), // fails with InvariantsFailed if anything went wrong
 *   Effect.provide(UndiciHttpClient.layer)
 * )
 */
import * as OAuth2 from "@apikit/auth/OAuth2"
import * as TokenStore from "@apikit/auth/TokenStore"
import * as CircuitBreaker from "@apikit/circuit-breaker/CircuitBreaker"
import * as CircuitBreakerStore from "@apikit/circuit-breaker/CircuitBreakerStore"
import * as ApiClient from "@apikit/http/ApiClient"
import * as Policy from "@apikit/http/Policy"
import * as RateLimit from "@apikit/rate-limit/RateLimit"
import * as Retry from "@apikit/retry/Retry"
import * as Sandbox from "@apikit/testing/Sandbox"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Receiver from "./demo/receiver.js"
import * as Transport from "./demo/transport.js"

/**
 * The faults `apikit demo` injects by default: 10% 5xx, 2% connection resets
 * (half of them after the project was created), 1% hangs and an occasional
 * burst of 429s.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultFaults: Sandbox.Faults = { errorRate: 0.1, resetRate: 0.02, hangRate: 0.01, burstRate: 0.005 }

/**
 * How the demo runs. Every field has a default: 200 projects, 20 at a time,
 * {@link defaultFaults}, a server limit of 20 requests per second, seed 42.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly count?: number | undefined
  readonly concurrency?: number | undefined
  readonly faults?: Sandbox.Faults | undefined
  /** The sandbox's limit in requests per second per client; the client paces itself at two thirds of it. */
  readonly limit?: number | undefined
  readonly seed?: number | undefined
  /** Called after each project is created or given up on, e.g. to draw a progress bar. */
  readonly onProgress?: ((progress: Progress) => Effect.Effect<void>) | undefined
}

/**
 * Where the run is.
 *
 * @since 0.1.0
 * @category models
 */
export interface Progress {
  readonly total: number
  readonly created: number
  readonly failed: number
  readonly attempts: number
  readonly rateLimited: number
}

/**
 * What the run did, seen from both sides of the wire, and which invariants failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Summary {
  readonly count: number
  readonly concurrency: number
  readonly created: number
  /** Creates given up on, by error tag (`Defect` for a bug). */
  readonly failures: Readonly<Record<string, number>>
  /** Requests sent to `POST /v1/projects`, first attempts and retries. */
  readonly attempts: number
  /** Attempts that repeated an idempotency key already sent. */
  readonly retries: number
  readonly tokenRequests: number
  /** 429 responses the client received. */
  readonly rateLimited: number
  /** What the client met: 5xx responses, broken connections, attempts that timed out. */
  readonly faultsSeen: { readonly serverErrors: number; readonly transportErrors: number; readonly timedOut: number }
  /** Circuit breaker transitions, as `From->To (reason)`. */
  readonly breakerTransitions: ReadonlyArray<string>
  readonly webhooks: { readonly verified: number; readonly rejected: number; readonly missing: number }
  /** Projects the server created twice from one logical request. Must be 0. */
  readonly duplicates: number
  /** The most requests the server saw from the client in any one second, and its limit. */
  readonly maxRate: number
  readonly limit: number
  /** The client-side limiter's rate (requests per second). */
  readonly clientLimit: number
  /** What the sandbox injected and observed. */
  readonly server: Sandbox.Stats
  readonly elapsedMillis: number
  /** The invariants that failed, in words; empty when the run is good. */
  readonly violations: ReadonlyArray<string>
}

/**
 * Options the demo cannot run with (a count of 0, a concurrency below 1, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidDemoOptions extends Schema.TaggedError<InvalidDemoOptions>()("InvalidDemoOptions", {
  detail: Schema.String
}) {
  override get message() {
    return `apikit demo: ${this.detail}`
  }
}

/**
 * The run finished but broke an invariant; `violations` say which.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvariantsFailed extends Schema.TaggedError<InvariantsFailed>()("InvariantsFailed", {
  violations: Schema.Array(Schema.String)
}) {
  override get message() {
    return `apikit demo: ${this.violations.length} invariant(s) failed:\n${
      this.violations.map((v) => `  - ${v}`).join("\n")
    }`
  }
}

const Endpoint = Schema.Struct({ id: Schema.String })
const Project = Schema.Struct({ id: Schema.String, name: Schema.String })
const NewProject = Schema.Struct({ name: Schema.String })

const positiveInt = (name: string, value: number, max: number) =>
  Number.isInteger(value) && value >= 1 && value <= max ? undefined : `${name} must be an integer from 1 to ${max}`

/** A `whsec_` secret from the Effect Random, so seeded runs are reproducible. */
const webhookSecret = Effect.map(
  Effect.all(Array.from({ length: 32 }, () => Random.nextIntBetween(0, 256))),
  (bytes) => Redacted.make(`whsec_${Buffer.from(bytes).toString("base64")}`)
)

/**
 * Runs the demo and returns its summary. Needs a transport (`HttpClient`,
 * e.g. `UndiciHttpClient.layer`); the sandbox, the receiver and the memory
 * stores live for the run only. Violated invariants are in the summary: pass
 * it to {@link check} to turn them into a failure.
 *
 * @since 0.1.0
 * @category running
 */
export const run = Effect.fn("apikit.demo")(function*(options: Options = {}) {
  const count = options.count ?? 200
  const concurrency = options.concurrency ?? 20
  const limit = options.limit ?? 20
  const problem = positiveInt("--count", count, 100_000) ?? positiveInt("--concurrency", concurrency, 1000) ??
    positiveInt("--limit", limit, 100_000)
  if (problem !== undefined) return yield* new InvalidDemoOptions({ detail: problem })
  const counters = Transport.makeCounters()
  const layer = Layer.mergeAll(
    Sandbox.layer({ rateLimit: { limit, window: "1 second" }, seed: options.seed ?? 42 }),
    TokenStore.layerMemory,
    RateLimit.layerMemory,
    CircuitBreakerStore.layerMemory,
    Transport.layer(counters)
  )
  return yield* Effect.scoped(program(count, concurrency, limit, options, counters)).pipe(Effect.provide(layer))
})

/**
 * The client-side limiter: waits while the server says to (adaptive), then takes a
 * permit from a token bucket of one, refilled `perSecond` times a second. The
 * order matters: a permit taken before a server pause would be spent the moment
 * the pause ends, all at once, and the burst would break the server's limit.
 */
const limiter = (perSecond: number) =>
  Effect.gen(function*() {
    const serverPauses = yield* RateLimit.make({
      key: "sandbox:server",
      limit: 1_000_000,
      window: "1 second",
      adaptive: true
    })
    const pace = yield* RateLimit.make({
      key: "sandbox",
      limit: 1,
      window: `${1000 / perSecond} millis`,
      algorithm: "token-bucket"
    })
    return Policy.make("rateLimit", `${serverPauses.name}, then ${pace.name}`, (next) =>
      serverPauses.wrap(pace.wrap(next)))
  })

const program = (count: number, concurrency: number, limit: number, options: Options, counters: Transport.Counters) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const client = Sandbox.defaultClient
    // Two thirds of the server's limit: the server measures any sliding second, and
    // arrival times bunch up a little (event-loop delays, permits granted in the
    // same tick), so the margin keeps the observed rate under the limit.
    const clientLimit = Math.max(1, Math.floor((limit * 2) / 3))
    const breaker = yield* CircuitBreaker.make({
      trip: CircuitBreaker.failureRate({ threshold: 0.5, window: 20 }),
      openDuration: "1 second"
    })
    const transitions: Array<string> = []
    yield* Effect.forkScoped(
      Stream.runForEach(
        yield* breaker.subscribe,
        (t) => Effect.sync(() => transitions.push(`${t.from}->${t.to} (${t.reason})`))
      )
    )
    const api = yield* ApiClient.make({
      baseUrl: `${sandbox.baseUrl}/v1`,
      name: "sandbox",
      auth: yield* OAuth2.clientCredentials({
        tokenUrl: `${sandbox.baseUrl}/oauth/token`,
        clientId: client.clientId,
        clientSecret: Redacted.make(client.clientSecret),
        timeout: "1 second"
      }),
      rateLimit: yield* limiter(clientLimit),
      circuitBreaker: breaker,
      retry: Retry.transient({ times: 8, base: "100 millis", cap: "2 seconds" }),
      timeout: { attempt: "1 second", total: "45 seconds" }
    })

    // The receiver first, with faults still off, so the registration cannot be lost.
    const secret = yield* webhookSecret
    const receiver = yield* Receiver.start(secret)
    yield* api.post("/webhook-endpoints", {
      body: { url: receiver.url, secret: Redacted.value(secret) },
      success: Endpoint,
      idempotencyKey: true
    })
    yield* sandbox.setFaults(options.faults ?? defaultFaults)

    const start = yield* Clock.currentTimeMillis
    let created = 0
    let failed = 0
    const failures: Record<string, number> = {}
    const createdIds: Array<string> = []
    const report = options.onProgress === undefined ? () => Effect.void : options.onProgress
    yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) =>
        api.post("/projects", {
          body: { name: `Project ${i + 1}` },
          bodySchema: NewProject,
          success: Project,
          idempotencyKey: true
        }).pipe(
          Effect.exit,
          Effect.flatMap((exit) => {
            if (Exit.isSuccess(exit)) {
              created++
              createdIds.push(exit.value.id)
            } else {
              failed++
              const error = Cause.failureOption(exit.cause)
              const tag = error._tag === "Some" ? error.value._tag : "Defect"
              failures[tag] = (failures[tag] ?? 0) + 1
            }
            return report({
              total: count,
              created,
              failed,
              attempts: counters.attempts,
              rateLimited: counters.rateLimited
            })
          })
        ),
      { concurrency, discard: true }
    )

    // Deliveries trail the creates; wait for them, boundedly.
    const missing = () => createdIds.filter((id) => !receiver.receipts.verified.has(id)).length
    for (let i = 0; i < 300 && missing() > 0; i++) yield* Effect.sleep("50 millis")
    const elapsedMillis = (yield* Clock.currentTimeMillis) - start

    const server = yield* sandbox.stats
    const maxRate = server.maxRequestRate[client.clientId] ?? 0
    const webhooks = {
      verified: receiver.receipts.verified.size,
      rejected: receiver.receipts.rejected,
      missing: missing()
    }
    const summary: Omit<Summary, "violations"> = {
      count,
      concurrency,
      created,
      failures,
      attempts: counters.attempts,
      retries: counters.retries,
      tokenRequests: counters.tokenRequests,
      rateLimited: counters.rateLimited,
      faultsSeen: {
        serverErrors: counters.serverErrors,
        transportErrors: counters.transportErrors,
        timedOut: counters.timedOut
      },
      breakerTransitions: transitions,
      webhooks,
      duplicates: server.duplicates,
      maxRate,
      limit,
      clientLimit,
      server,
      elapsedMillis
    }
    return { ...summary, violations: violations(summary) } satisfies Summary
  })

/**
 * The invariants of a run, checked: every project created, none twice, the
 * server's limit respected, every webhook verified, no defect.
 *
 * @since 0.1.0
 * @category invariants
 */
export const violations = (summary: Omit<Summary, "violations">): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (summary.created < summary.count) {
    const why = Object.entries(summary.failures).map(([tag, n]) => `${n} ${tag}`).join(", ")
    out.push(`${summary.count - summary.created} of ${summary.count} projects were not created (${why})`)
  }
  if (summary.failures["Defect"] !== undefined) out.push(`${summary.failures["Defect"]} creates died with a defect`)
  if (summary.duplicates > 0) out.push(`the server created ${summary.duplicates} duplicate project(s)`)
  if (summary.server.projectsCreated !== summary.created + summary.duplicates) {
    out.push(`the server created ${summary.server.projectsCreated} projects, the client saw ${summary.created}`)
  }
  if (summary.maxRate > summary.limit) {
    out.push(`the server saw ${summary.maxRate} requests in one second, above its limit of ${summary.limit}`)
  }
  if (summary.webhooks.rejected > 0) out.push(`${summary.webhooks.rejected} webhook deliveries failed verification`)
  if (summary.webhooks.missing > 0) out.push(`${summary.webhooks.missing} created projects had no verified webhook`)
  return out
}

/**
 * Succeeds with the summary when every invariant held, else fails with {@link InvariantsFailed}.
 *
 * @since 0.1.0
 * @category invariants
 */
export const check = (summary: Summary): Effect.Effect<Summary, InvariantsFailed> =>
  summary.violations.length === 0
    ? Effect.succeed(summary)
    : Effect.fail(new InvariantsFailed({ violations: summary.violations }))
