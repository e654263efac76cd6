/**
 * A realistic fake third-party API on a real socket (127.0.0.1): a small
 * project-management SaaS with OAuth2 client credentials and API keys,
 * validation errors, idempotency keys, cursor pagination with `Link` headers,
 * per-client rate limits, Standard Webhooks deliveries, a GraphQL endpoint
 * (`POST /graphql`: a Relay connection, coded resolver errors, a point budget
 * answered with `THROTTLED`), and injectable faults
 * (5xx, latency, connection resets, hangs, 429 bursts). `GET /_stats` tells
 * what the server saw, so tests and demos can check client behaviour from the
 * other side of the wire.
 *
 * @since 0.1.0
 * @example
 * import { Sandbox } from "@apikit/testing"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.Sandbox
 *   // call `${sandbox.baseUrl}/v1/projects` with X-API-Key: Sandbox.defaultClient.apiKey
 *   const stats = yield* sandbox.stats
 *   return stats.duplicates
 * }).pipe(Effect.provide(Sandbox.layer({ faults: { errorRate: 0.1 }, seed: 42 })))
 */
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as faults from "./internal/sandbox/faults.js"
import type { InvalidFaults, InvalidOptions } from "./internal/sandbox/faults.js"
import * as server from "./internal/sandbox/server.js"

/**
 * An API client the sandbox knows: OAuth2 client credentials and, optionally, an API key.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly clientId: string
  readonly clientSecret: string | Redacted.Redacted<string>
  /** Accepted in the `X-API-Key` header instead of a bearer token. */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
}

/**
 * The client the sandbox accepts when `clients` is not given. Not a secret: it is a public test fixture.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultClient: {
  readonly clientId: "sandbox-client"
  readonly clientSecret: "sandbox-secret"
  readonly apiKey: "sk_test_sandbox"
} = server.defaultClient

/**
 * Faults the sandbox injects into `/oauth/token` and `/v1/*` requests. Rates are
 * probabilities in [0, 1]; reset, hang, error and burst are exclusive outcomes of one
 * roll, so their rates must add up to at most 1. Latency is rolled separately.
 *
 * @since 0.1.0
 * @category models
 */
export interface Faults {
  /** Share of requests answered 500/502/503 before they are processed. */
  readonly errorRate?: number | undefined
  /** Share of requests whose connection is reset (TCP RST, no response). */
  readonly resetRate?: number | undefined
  /**
   * Of the resets, the share that happen after the request was processed, so the
   * client cannot know whether it took effect (default 0.5). This is what idempotency keys are for.
   */
  readonly resetAfterProcessing?: number | undefined
  /** Share of requests that get no response at all, until the client gives up. */
  readonly hangRate?: number | undefined
  /** Share of requests that start a burst of 429s for every client. */
  readonly burstRate?: number | undefined
  /** How many consecutive requests a burst rejects (default 5). */
  readonly burstLength?: number | undefined
  /** Latency added before processing. */
  readonly latency?: Duration.DurationInput | undefined
  /** Share of requests that get the latency (default 1 when `latency` is set). */
  readonly latencyRate?: number | undefined
}

export {
  /**
   * Faults that are not valid: a rate outside [0, 1], exclusive rates adding up to more
   * than 1, or a `--faults` string that does not parse.
   *
   * @since 0.1.0
   * @category errors
   */
  InvalidFaults,
  /**
   * Options that are not valid: a non-positive rate limit, a negative lifetime, too few webhook attempts.
   *
   * @since 0.1.0
   * @category errors
   */
  InvalidOptions
} from "./internal/sandbox/faults.js"

/**
 * How the sandbox behaves.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The port on 127.0.0.1 (default 0: a free port). */
  readonly port?: number | undefined
  /** Known clients (default: {@link defaultClient}). */
  readonly clients?: ReadonlyArray<Client> | undefined
  /** How long issued access tokens live, on the sandbox's Clock (default 1 hour). */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /** Requests per window per client on `/v1/*` (default 100 per second); `false` turns limiting off. */
  readonly rateLimit?: { readonly limit: number; readonly window: Duration.DurationInput } | false | undefined
  readonly faults?: Faults | undefined
  /** Seeds the sandbox's Random (faults, tokens, secrets) so runs are reproducible. */
  readonly seed?: number | undefined
  /** How long an `Idempotency-Key` is remembered (default 24 hours). */
  readonly idempotencyTtl?: Duration.DurationInput | undefined
  /** Refuse a second live project with the same name with 409 (default true). */
  readonly uniqueNames?: boolean | undefined
  /**
   * The point budget of `POST /graphql` per client, Shopify-style: `points` in a
   * full bucket (default 1,000), `restoreRate` points restored per second
   * (default 50). A query costs 1 + the sum of its `first` arguments.
   */
  readonly graphql?: { readonly points?: number | undefined; readonly restoreRate?: number | undefined } | undefined
  readonly webhooks?: {
    /** Attempts per delivery, the first included (default 5). */
    readonly maxAttempts?: number | undefined
    /** Delay before the first retry, doubled for each next one (default 1 second). */
    readonly retryBase?: Duration.DurationInput | undefined
    /** How long one delivery attempt may take (default 10 seconds). */
    readonly timeout?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * What the sandbox observed. Also served as JSON at `GET /_stats`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Requests to `/oauth/token`, `/v1/*` and `/graphql` (the `/_` control paths are not counted). */
  readonly requests: number
  /** 429 responses issued, rate limit and bursts together, and GraphQL `THROTTLED` answers. */
  readonly rateLimited: number
  /** Per client (client id, or "anonymous"): the most requests seen in any 1-second window. */
  readonly maxRequestRate: Readonly<Record<string, number>>
  readonly tokensIssued: number
  readonly projectsCreated: number
  /** Projects created twice from one logical request (a reused idempotency key, or a duplicate name). Should be 0. */
  readonly duplicates: number
  /** Responses replayed for a repeated `Idempotency-Key`. */
  readonly idempotentReplays: number
  readonly faults: {
    readonly errors: number
    readonly resets: number
    readonly hangs: number
    readonly delayed: number
    readonly bursts: number
  }
  readonly webhooks: {
    /** Deliveries a receiver acknowledged with 2xx. */
    readonly delivered: number
    /** Attempts that failed (non-2xx, transport error or timeout) and were retried or abandoned. */
    readonly failedAttempts: number
    /** Deliveries given up after the last attempt. */
    readonly abandoned: number
  }
}

/**
 * A running sandbox.
 *
 * @since 0.1.0
 * @category services
 */
export class Sandbox extends Context.Tag("@apikit/testing/Sandbox")<Sandbox, {
  /** `http://127.0.0.1:<port>`; the API lives under `/v1` and at `/graphql`, the token endpoint at `/oauth/token`. */
  readonly baseUrl: string
  readonly port: number
  readonly clients: ReadonlyArray<Client>
  readonly stats: Effect.Effect<Stats>
  /** Replaces the faults while running. */
  readonly setFaults: (faults: Faults) => Effect.Effect<void, InvalidFaults>
  /** Invalidates every issued token, so the next call with one gets 401 `invalid_token`. */
  readonly revokeTokens: Effect.Effect<void>
}>() {}

/**
 * Starts a sandbox on 127.0.0.1 for the lifetime of the layer. Its handlers read
 * time from the Clock of the context the layer is built in, so TestClock drives
 * token expiry, rate-limit windows, latency and webhook retries.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Sandbox, ServeError | InvalidFaults | InvalidOptions> =>
  Layer.scoped(Sandbox, server.make(options))

/**
 * Runs a sandbox until interrupted (what `apikit sandbox` runs). `onReady` sees
 * the running sandbox, e.g. to print its URL.
 *
 * @since 0.1.0
 * @category running
 */
export const serve = <E = never, R = never>(
  options: Options = {},
  onReady?: (sandbox: Sandbox["Type"]) => Effect.Effect<void, E, R>
): Effect.Effect<never, ServeError | InvalidFaults | InvalidOptions | E, R> =>
  Effect.flatMap(Sandbox, (sandbox) => onReady === undefined ? Effect.void : onReady(sandbox)).pipe(
    Effect.zipRight(Effect.never),
    Effect.provide(layer(options))
  )

/**
 * Parses faults written as `key=value` pairs separated by commas, the syntax of
 * `apikit sandbox --faults` and `PUT /_faults`: `5xx`, `reset`, `reset-after`,
 * `hang`, `burst`, `burst-length`, `latency` (`200ms`, `1.5s`), `latency-rate`;
 * `none` (or an empty string) means no faults.
 *
 * @since 0.1.0
 * @category parsing
 * @example
 * import { Sandbox } from "@apikit/testing"
 *
 * const faults = Sandbox.parseFaults("5xx=0.1,reset=0.02,hang=0.01,latency=50ms")
 */
export const parseFaults: (input: string) => Effect.Effect<Faults, InvalidFaults> = faults.parse
