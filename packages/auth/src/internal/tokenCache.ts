import { AuthError, type ReauthorizationRequired, type Timeout } from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Credential } from "../Auth.js"
import { StoredToken, type TokenStore, type TokenStoreError } from "../TokenStore.js"
import * as MemoryTokenStore from "./memoryTokenStore.js"
import * as SingleFlight from "./singleFlight.js"

/** Failures a credential can produce. */
export type CredentialError = AuthError | ReauthorizationRequired

/**
 * How early a token is renewed before it expires. By default 60 s, or 10% of
 * its lifetime when that is larger, but never so early that a token is used
 * for less than 60 s (or 90% of its lifetime, for tokens shorter than that):
 * max(10% of L, min(60 s, L − 60 s)). google-auth-library uses a flat 5 min,
 * which is more than a whole 5-minute token. Whatever the margin, it is at
 * most half the lifetime, so every token is used before it is renewed.
 */
export type Margin = Duration.DurationInput | ((lifetime: Duration.Duration) => Duration.DurationInput)

/** The usual margin, when the lifetime allows it. */
const aheadMillis = 60_000
/** The share of the lifetime renewed ahead of expiry, when that is more than {@link aheadMillis}. */
const aheadShare = 0.1
/** No margin is more than this share of the lifetime, so a short-lived token is still used. */
const maxMarginShare = 0.5

export const defaultMargin = (lifetime: Duration.Duration): Duration.Duration => {
  const lifetimeMillis = Duration.toMillis(lifetime)
  return Duration.millis(
    Math.max(lifetimeMillis * aheadShare, Math.min(aheadMillis, lifetimeMillis - aheadMillis))
  )
}

const marginMillis = (margin: Margin, lifetimeMillis: number): number => {
  const lifetime = Math.max(0, lifetimeMillis)
  const wanted = Duration.toMillis(typeof margin === "function" ? margin(Duration.millis(lifetime)) : margin)
  return Math.min(wanted, lifetime * maxMarginShare)
}

export interface Options {
  readonly key: string
  readonly store: Context.Tag.Service<TokenStore>
  /** Gets a new token set; `current` is what the store holds (with its refresh token, if any). */
  readonly fetch: (current: Option.Option<StoredToken>) => Effect.Effect<StoredToken, CredentialError>
  readonly margin: Margin
  /** Whether the store entry expires with the access token (client credentials) or stays (refresh-token connections). */
  readonly expireEntry: boolean
}

export interface TokenCache {
  /** A valid token set: cached, or fetched once for all concurrent callers. */
  readonly get: Effect.Effect<StoredToken, CredentialError>
  /** After a 401 with `rejected`: a new token set, unless another caller already replaced it. */
  readonly renew: (rejected: Redacted.Redacted<string>) => Effect.Effect<StoredToken, CredentialError>
  /** `get` with the token request (never the cache hit) bounded by the call's deadline. */
  readonly getWithin: (context: Policy.CallContext) => Effect.Effect<StoredToken, CredentialError | Timeout>
  /** `renew` bounded by the call's deadline. */
  readonly renewWithin: (
    rejected: Redacted.Redacted<string>,
    context: Policy.CallContext
  ) => Effect.Effect<StoredToken, CredentialError | Timeout>
}

export const storeError = (key: string) => (e: TokenStoreError) =>
  new AuthError({
    reason: "TokenStoreUnavailable",
    key,
    description: `the token store failed to ${e.operation}`,
    transient: true
  })

// Single-flight per store and key, not per policy: two policies built for the same credential
// (two ApiClients of one integration) still make one token request at a time.
const flights = new WeakMap<object, ReturnType<typeof SingleFlight.make<StoredToken, CredentialError>>>()
const flightOf = (store: object) => {
  let flight = flights.get(store)
  if (flight === undefined) {
    flight = SingleFlight.make<StoredToken, CredentialError>()
    flights.set(store, flight)
  }
  return flight
}

export const make = (options: Options): TokenCache => {
  const { key, store } = options
  const flight = flightOf(store)
  const toAuth = storeError(key)

  const usable = (token: StoredToken, now: number) => {
    if (token.expiresAt === undefined) return true
    return now < token.expiresAt - marginMillis(options.margin, token.expiresAt - token.obtainedAt)
  }

  const load = Effect.mapError(store.get(key), toAuth)

  // A shared store's lock makes the renewal single-flight across instances too: whoever waited
  // re-reads inside it and finds the token the holder stored (with its rotated refresh token).
  const locked = (work: Effect.Effect<StoredToken, CredentialError>): Effect.Effect<StoredToken, CredentialError> =>
    store.withLock === undefined ?
      work :
      Effect.mapError(store.withLock(key, work), (e) => e._tag === "TokenStoreError" ? toAuth(e) : e)

  const refresh = (rejected: Option.Option<string>) =>
    flight(
      key,
      locked(Effect.gen(function*() {
        // Re-read inside the flight: the previous flight (or another process sharing the store)
        // may have stored a token since this caller looked.
        const current = yield* load
        const now = yield* Clock.currentTimeMillis
        if (
          Option.isSome(current) && usable(current.value, now) &&
          (Option.isNone(rejected) || Redacted.value(current.value.accessToken) !== rejected.value)
        ) return current.value
        if (Option.isSome(current) && Option.isSome(rejected)) {
          // The server refused this token: retire it now, so that if the renewal fails the next call
          // renews again instead of sending a token known to be bad. A connection keeps its refresh token.
          yield* Effect.mapError(
            options.expireEntry
              ? store.delete(key)
              : store.set(key, new StoredToken({ ...current.value, expiresAt: current.value.obtainedAt })),
            toAuth
          )
        }
        const next = yield* options.fetch(current)
        const ttl = options.expireEntry && next.expiresAt !== undefined
          ? Duration.millis(Math.max(1, next.expiresAt - now))
          : undefined
        yield* Effect.mapError(store.set(key, next, ttl === undefined ? undefined : { ttl }), toAuth)
        yield* Effect.logDebug("apikit auth: new token").pipe(
          Effect.annotateLogs({
            key,
            renewal: Option.isSome(rejected) ? "after 401" : Option.isSome(current) ? "expiring" : "first",
            expiresInMs: next.expiresAt === undefined ? "unknown" : next.expiresAt - now
          })
        )
        return next
      }))
    )

  // Not Effect.gen, and no closures but one: this runs on every attempt of every call.
  const decide = (
    current: Option.Option<StoredToken>,
    now: number,
    context: Policy.CallContext | undefined
  ): Effect.Effect<StoredToken, CredentialError | Timeout> => {
    if (Option.isSome(current) && usable(current.value, now)) return Effect.succeed(current.value)
    // Built only now: a shared store's withLock may look at its state when it is called.
    const fetch = context === undefined
      ? refresh(Option.none())
      : Policy.withinDeadline(refresh(Option.none()), context)
    const expiresAt = Option.isSome(current) ? current.value.expiresAt : undefined
    if (Option.isNone(current) || expiresAt === undefined || now >= expiresAt) return fetch
    // Inside the refresh-ahead window the old token still works, so a token endpoint blip
    // must not fail calls: keep using it until it really expires.
    const old = current.value
    return Effect.catchIf(
      fetch,
      (e): e is AuthError => e._tag === "AuthError" && e.transient,
      (e) =>
        Effect.as(
          Effect.logWarning(
            "apikit auth: early token renewal failed; using the current token until it expires"
          ).pipe(Effect.annotateLogs({ key, reason: e.reason, expiresInMs: expiresAt - now })),
          old
        )
    )
  }
  const unsafeGet = MemoryTokenStore.fastGetOf(store)
  const getWith = (context: Policy.CallContext | undefined): Effect.Effect<StoredToken, CredentialError | Timeout> =>
    unsafeGet === undefined
      ? Effect.flatMap(
        load,
        (current) => Effect.flatMap(Clock.currentTimeMillis, (now) => decide(current, now, context))
      )
      : Effect.clockWith((clock) => {
        const now = clock.unsafeCurrentTimeMillis()
        return decide(unsafeGet(key, now), now, context)
      })

  return {
    get: getWith(undefined) as Effect.Effect<StoredToken, CredentialError>,
    getWithin: getWith,
    renew: (rejected) => refresh(Option.some(Redacted.value(rejected))),
    renewWithin: (rejected, context) => Policy.withinDeadline(refresh(Option.some(Redacted.value(rejected))), context)
  }
}

/** The credential of a token cache, for `Auth.fromCredential`: the access token, bounded by deadlines. */
export const credential = (key: string, cache: TokenCache): Credential => ({
  key,
  get: Effect.map(cache.get, accessToken),
  renew: (rejected) => Effect.map(cache.renew(rejected), accessToken),
  getWithin: (context) => Effect.map(cache.getWithin(context), accessToken),
  renewWithin: (rejected, context) => Effect.map(cache.renewWithin(rejected, context), accessToken)
})

const accessToken = (token: StoredToken) => token.accessToken
