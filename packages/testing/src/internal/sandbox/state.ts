/**
 * The sandbox's in-memory state and counters. Handlers mutate it only inside
 * synchronous sections (after the body is read), so check-then-insert steps
 * such as idempotency and name uniqueness are atomic on the one JS thread.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Random from "effect/Random"
import type { Stats } from "../../Sandbox.js"
import type * as Faults from "./faults.js"

/** @internal */
export interface Project {
  readonly id: string
  name: string
  description: string | null
  status: "active" | "archived"
  readonly created_at: string
  updated_at: string
}

/** A response kept for an idempotency key. @internal */
export interface StoredResponse {
  readonly fingerprint: string
  readonly status: number
  readonly body: unknown
  readonly headers: Readonly<Record<string, string>>
  readonly expiresAt: number
}

/** @internal */
export interface Endpoint {
  readonly id: string
  readonly url: string
  readonly secret: string
}

/** @internal */
export interface Settings {
  readonly clients: ReadonlyArray<
    { readonly clientId: string; readonly clientSecret: string; readonly apiKey?: string }
  >
  readonly tokenLifetimeMillis: number
  readonly rateLimit: { readonly limit: number; readonly windowMillis: number } | undefined
  readonly idempotencyTtlMillis: number
  readonly uniqueNames: boolean
  readonly webhooks: { readonly maxAttempts: number; readonly retryBaseMillis: number; readonly timeoutMillis: number }
}

/** @internal */
export interface State {
  readonly settings: Settings
  readonly random: Random.Random
  faults: Faults.Resolved
  burstRemaining: number
  /** Live projects in creation order (Map keeps insertion order, which is the pagination order). */
  readonly projects: Map<string, Project>
  nextProject: number
  readonly tokens: Map<string, { readonly clientId: string; readonly expiresAt: number }>
  readonly idempotency: Map<string, StoredResponse>
  /** Idempotency keys that ever created a project, kept past their TTL to count duplicates. */
  readonly createdKeys: Set<string>
  readonly windows: Map<string, { start: number; count: number }>
  /** Arrival times within the last second, per client, for the maximum observed rate. */
  readonly arrivals: Map<string, Array<number>>
  readonly endpoints: Map<string, Endpoint>
  nextEndpoint: number
  nextMessage: number
  readonly counters: {
    requests: number
    rateLimited: number
    tokensIssued: number
    projectsCreated: number
    duplicates: number
    idempotentReplays: number
    errors: number
    resets: number
    hangs: number
    delayed: number
    bursts: number
    delivered: number
    failedAttempts: number
    abandoned: number
  }
  readonly maxRate: Map<string, number>
}

/** @internal */
export const make = (settings: Settings, random: Random.Random, faults: Faults.Resolved): State => ({
  settings,
  random,
  faults,
  burstRemaining: 0,
  projects: new Map(),
  nextProject: 1,
  tokens: new Map(),
  idempotency: new Map(),
  createdKeys: new Set(),
  windows: new Map(),
  arrivals: new Map(),
  endpoints: new Map(),
  nextEndpoint: 1,
  nextMessage: 1,
  counters: {
    requests: 0,
    rateLimited: 0,
    tokensIssued: 0,
    projectsCreated: 0,
    duplicates: 0,
    idempotentReplays: 0,
    errors: 0,
    resets: 0,
    hangs: 0,
    delayed: 0,
    bursts: 0,
    delivered: 0,
    failedAttempts: 0,
    abandoned: 0
  },
  maxRate: new Map()
})

/** Records one arrival and updates the client's maximum rate over any 1-second window. @internal */
export const recordArrival = (state: State, client: string, now: number): void => {
  state.counters.requests++
  let times = state.arrivals.get(client)
  if (times === undefined) {
    times = []
    state.arrivals.set(client, times)
  }
  times.push(now)
  // A window is [t - 999 ms, t]: arrivals one full second apart are in different windows.
  let drop = 0
  while (drop < times.length && times[drop]! <= now - 1000) drop++
  if (drop > 0) times.splice(0, drop)
  if (times.length > (state.maxRate.get(client) ?? 0)) state.maxRate.set(client, times.length)
}

/**
 * Drops expired entries once a map has grown, so a long `apikit sandbox` run
 * does not keep every token and idempotency key it ever saw.
 *
 * @internal
 */
export const sweep = <V extends { readonly expiresAt: number }>(map: Map<string, V>, now: number): void => {
  if (map.size < 10_000 || map.size % 1000 !== 0) return
  for (const [key, value] of map) {
    if (value.expiresAt <= now) map.delete(key)
  }
}

/** @internal */
export const snapshot = (state: State): Stats => {
  const c = state.counters
  return {
    requests: c.requests,
    rateLimited: c.rateLimited,
    maxRequestRate: Object.fromEntries(state.maxRate),
    tokensIssued: c.tokensIssued,
    projectsCreated: c.projectsCreated,
    duplicates: c.duplicates,
    idempotentReplays: c.idempotentReplays,
    faults: { errors: c.errors, resets: c.resets, hangs: c.hangs, delayed: c.delayed, bursts: c.bursts },
    webhooks: { delivered: c.delivered, failedAttempts: c.failedAttempts, abandoned: c.abandoned }
  }
}

/** `bytes` random bytes from the sandbox's Random, so seeded runs issue the same tokens. @internal */
export const randomBytes = (state: State, bytes: number): Effect.Effect<Uint8Array> =>
  Effect.gen(function*() {
    const out = new Uint8Array(bytes)
    for (let i = 0; i < bytes; i++) out[i] = yield* state.random.nextIntBetween(0, 256)
    return out
  })
