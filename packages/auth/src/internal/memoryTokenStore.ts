import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { StoredToken, TokenStore } from "../TokenStore.js"

/**
 * The memory store's synchronous `get`, under a private symbol: the token cache
 * reads through it on every attempt when it finds it. Not part of the
 * `TokenStore` contract; third-party stores never see it.
 */
export const fastGet: unique symbol = Symbol.for("@apikit/auth/internal/fastGet")

type FastGet = (key: string, now: number) => Option.Option<StoredToken>

/** The synchronous `get` of apikit's own memory store, if `store` is one. */
export const fastGetOf = (store: Context.Tag.Service<TokenStore>): FastGet | undefined =>
  (store as Context.Tag.Service<TokenStore> & { readonly [fastGet]?: FastGet })[fastGet]

/** How often (in Clock time) the store drops expired entries nobody read again. */
export const sweepEvery = 60_000

interface Entry {
  readonly token: StoredToken
  readonly some: Option.Option<StoredToken>
  readonly until: number | undefined
}

/** The process-local token store, and the number of entries it holds (for tests and benchmarks). */
export const make = (): {
  readonly store: Context.Tag.Service<TokenStore>
  readonly size: () => number
} => {
  const entries = new Map<string, Entry>()
  // Entries with a ttl that are never read again would stay forever: every `sweepEvery` ms of
  // Clock time, a set drops the expired ones in one pass (amortised over the sets in between).
  let nextSweep = -Infinity
  const sweep = (now: number) => {
    nextSweep = now + sweepEvery
    for (const [key, entry] of entries) if (entry.until !== undefined && now >= entry.until) entries.delete(key)
  }
  const unsafeGet = (key: string, now: number): Option.Option<StoredToken> => {
    const entry = entries.get(key)
    if (entry === undefined) return Option.none()
    if (entry.until !== undefined && now >= entry.until) {
      entries.delete(key)
      return Option.none()
    }
    return entry.some
  }
  const store: Context.Tag.Service<TokenStore> & { readonly [fastGet]: FastGet } = {
    get: (key) => Effect.map(Clock.currentTimeMillis, (now) => unsafeGet(key, now)),
    [fastGet]: unsafeGet,
    set: (key, token, options) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (now >= nextSweep) sweep(now)
        const until = options?.ttl === undefined ? undefined : now + Duration.toMillis(options.ttl)
        entries.set(key, { token, some: Option.some(token), until })
      }),
    delete: (key) => Effect.sync(() => void entries.delete(key))
  }
  return { store, size: () => entries.size }
}
