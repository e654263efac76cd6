/**
 * The cache stage of the ApiClient pipeline: responses that cost no quota.
 *
 * It sits outside retry, the circuit breaker and the rate limiter, so a fresh
 * stored response is returned without a permit and without touching an open
 * circuit. RFC 9111 decisions (what may be stored, for how long, when it must
 * be revalidated) are made by `http-cache-semantics`; this module adds what a
 * client of third-party APIs needs around them:
 *
 * - conditional requests: a stale entry is revalidated with `If-None-Match` /
 *   `If-Modified-Since`; a `304` refreshes it and the stored body is decoded by
 *   the call's Schema. With `notModifiedIsFree` (GitHub does not count 304s)
 *   the revalidation takes no rate-limit permit.
 * - keys safe for credentials: integration, masked URL, method, `Vary`
 *   values, scoped to the credential's identity (a fingerprint, never the secret).
 * - coalescing: identical in-flight GETs share one request; each caller keeps
 *   its own deadline and interruption.
 * - invalidation: a successful POST/PUT/PATCH/DELETE drops what is stored for
 *   its URL (and its `Location` / `Content-Location`), and {@link invalidate}.
 * - degraded service: `stale-if-error`, `stale-while-revalidate`, and
 *   {@link orStale}, which lets a caller take a stale entry when the circuit is
 *   open or the limiter refuses, as a value that says how old it is.
 *
 * @since 0.1.0
 */
import type * as ApiClient from "@apikit/http/ApiClient"
import type * as ApiError from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Redaction from "@apikit/http/Redaction"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { CacheStore, type CacheStoreError, type Entry, type StoredResponse } from "./CacheStore.js"
import * as Flight from "./internal/flight.js"
import * as key from "./internal/key.js"
import * as internalMetrics from "./internal/metrics.js"
import * as semantics from "./internal/semantics.js"

/**
 * How a cache stage is configured.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /**
   * The provider does not count `304 Not Modified` against the quota (GitHub:
   * "a 304 does not count against your primary rate limit"): revalidations go
   * out with `cost: 0`, so the client's limiter takes no permit for them. A
   * revalidation answered with a full 200 is charged by the provider but not
   * by the client's limiter; an adaptive limiter still learns the provider's
   * remaining quota from its headers. Default false.
   */
  readonly notModifiedIsFree?: boolean | undefined
  /**
   * Evaluate responses as a shared cache would (`s-maxage` applies, `private`
   * responses are not stored). Default false: a private cache, which is what a
   * client whose entries are scoped per credential is (RFC 9111 §3.5: a private
   * cache ignores `s-maxage` and may store `private` responses).
   */
  readonly shared?: boolean | undefined
  /**
   * Heuristic freshness (RFC 9111 §4.2.2) as a fraction of the time since
   * `Last-Modified`, e.g. 0.1. Default 0: off, a response without explicit
   * freshness is stored only to be revalidated.
   */
  readonly heuristic?: number | undefined
  /** Bodies larger than this are not stored (default 1 MiB). */
  readonly maxBodyBytes?: number | undefined
  /**
   * How long a stale entry is kept past its freshness (and its
   * stale-while-revalidate / stale-if-error windows) to be revalidated or
   * served by {@link orStale} (default 1 hour). Sets the store's TTL.
   */
  readonly keepStale?: Duration.DurationInput | undefined
  /**
   * Identical in-flight GETs share one request (default true). It runs in a
   * fiber of its own so that it outlives any one waiter, which costs about
   * one fiber per miss; `false` sends each miss from its caller's fiber.
   */
  readonly coalesce?: boolean | undefined
}

/**
 * Why a stale response was served.
 *
 * @since 0.1.0
 * @category models
 */
export type StaleReason = "stale-while-revalidate" | "stale-if-error" | "CircuitOpen" | "RateLimited"

/**
 * A value from {@link orStale}: fresh (from the provider or a fresh stored
 * response), or stale, with how old it is and why it was served.
 *
 * @since 0.1.0
 * @category models
 */
export type Served<A> =
  | { readonly _tag: "Fresh"; readonly value: A }
  | { readonly _tag: "Stale"; readonly value: A; readonly age: Duration.Duration; readonly reason: StaleReason }

interface StaleCell {
  readonly maxStaleMillis: number | undefined
  served: { readonly ageMillis: number; readonly reason: StaleReason } | undefined
}

const currentStale = FiberRef.unsafeMake<StaleCell | undefined>(undefined)

/**
 * Runs a call that may be answered by a stale stored response when the
 * circuit is open or the rate limiter refuses (it would wait past the call's
 * budget, or fails fast), instead of failing. The result says which it was:
 * `Stale` carries the response's age (RFC 9111 Age) and the reason. Stale
 * responses are never served where the provider forbade it (`must-revalidate`,
 * `no-cache`), nor older than `maxStale`.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * import { Cache } from "@apikit/cache"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const repo = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.github.com", cache: yield* Cache.make() })
 *   return yield* Cache.orStale(api.get("/repos/effect-ts/effect"), { maxStale: "1 hour" })
 * }).pipe(
 *   Effect.tap((served) => served._tag === "Stale" ? Effect.logWarning(`served ${served.reason}, stale`) : Effect.void)
 * )
 */
export const orStale = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: { readonly maxStale?: Duration.DurationInput | undefined }
): Effect.Effect<Served<A>, E, R> =>
  Effect.suspend(() => {
    const cell: StaleCell = {
      maxStaleMillis: options?.maxStale === undefined ? undefined : Duration.toMillis(options.maxStale),
      served: undefined
    }
    return Effect.map(
      Effect.locally(effect, currentStale, cell),
      (value): Served<A> =>
        cell.served === undefined
          ? { _tag: "Fresh", value }
          : { _tag: "Stale", value, age: Duration.millis(cell.served.ageMillis), reason: cell.served.reason }
    )
  })

const safeMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])

/** Requests the caller made conditional or partial itself are theirs to handle: the cache steps aside. */
const bypassHeaders = ["if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"]
const bypass = (request: HttpClientRequest.HttpClientRequest) => {
  for (const name of bypassHeaders) if (request.headers[name] !== undefined) return true
  return false
}

/** Errors a `stale-if-error` response may answer (RFC 5861: 500, 502, 503, 504, and no answer at all). */
const serverSideFailure = (error: ApiError.ApiError): boolean =>
  error._tag === "ServerError" || error._tag === "Transport" || error._tag === "Timeout" ||
  error._tag === "CircuitOpen" || (error._tag === "RateLimited" && error.status === 503)

const directives = (headers: Record<string, unknown>): string =>
  typeof headers["cache-control"] === "string" ? headers["cache-control"].toLowerCase() : ""

/** RFC 9111 §4.2.4: no stale response where the provider forbade one. */
const mayServeStale = (stored: StoredResponse, shared: boolean): boolean => {
  const cc = directives((stored.policy as { resh: Record<string, unknown> }).resh)
  return !/(^|,)\s*(must-revalidate|no-cache)\b/.test(cc) && !(shared && /(^|,)\s*proxy-revalidate\b/.test(cc))
}

const debugEnabled = Effect.map(
  FiberRef.get(FiberRef.currentMinimumLogLevel),
  (min) => LogLevel.greaterThanEqual(LogLevel.Debug, min)
)

const log = (context: Policy.CallContext, outcome: string, extra?: Record<string, unknown>) =>
  Effect.flatMap(debugEnabled, (enabled) =>
    enabled
      ? Effect.logDebug("apikit cache").pipe(
        Effect.annotateLogs({ client: context.client, method: context.method, url: context.url, outcome, ...extra })
      )
      : Effect.void)

const storeFailed = (error: CacheStoreError, client: string) => {
  internalMetrics.count(client, "storeError")
  return Effect.logWarning(`apikit cache: the cache store failed; going on without it: ${error.message}`)
}

/** A found entry with its policy. */
interface Found {
  readonly variant: string
  readonly stored: StoredResponse
  readonly policy: semantics.Policy
}

/**
 * The cache's counters, each labelled with the integration (`client`):
 * `hit`, `miss`, `revalidation`, `notModified` (304s), `permitSaved` (fresh
 * hits, callers that joined an in-flight request, uncounted 304s),
 * `coalesced`, `stale` (stale responses served), `invalidation`, `storeError`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const metrics = internalMetrics.counters

/**
 * Makes a cache stage for the ApiClient `cache` slot, over the
 * {@link CacheStore} in context.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Cache, CacheStore } from "@apikit/cache"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const github = Effect.gen(function*() {
 *   return yield* ApiClient.make({
 *     baseUrl: "https://api.github.com",
 *     cache: yield* Cache.make({ notModifiedIsFree: true }) // GitHub does not count 304s
 *   })
 * }).pipe(Effect.provide(CacheStore.layerMemory))
 */
export const make = (options: Options = {}): Effect.Effect<Policy.CachePolicy, never, CacheStore> =>
  Effect.gen(function*() {
    const store = yield* CacheStore
    const settings: semantics.Settings = { shared: options.shared === true, heuristic: options.heuristic ?? 0 }
    const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
    const keepStaleMillis = options.keepStale === undefined ? 3600_000 : Duration.toMillis(options.keepStale)
    const free = options.notModifiedIsFree === true
    const coalesce = options.coalesce !== false
    const flights = Flight.make<Policy.ApiResponse>()

    const responseOf = (stored: StoredResponse, headers: Record<string, unknown>): Policy.ApiResponse => ({
      status: stored.status,
      headers: Headers.unsafeFromRecord(headers as Record<string, string>),
      body: stored.body
    })

    /** What is stored for this request, if anything matches its Vary values. */
    const lookup = (
      resource: string,
      primary: string,
      headers: Record<string, string>,
      client: string
    ): Effect.Effect<Found | undefined> => {
      const found = (variant: string, entry: Entry | undefined): Found | undefined =>
        entry === undefined || entry._tag !== "Response"
          ? undefined
          : { variant, stored: entry, policy: semantics.revive(entry.policy) }
      return store.get(resource, primary).pipe(
        Effect.flatMap((entry): Effect.Effect<Found | undefined, CacheStoreError> => {
          if (entry?._tag !== "Vary") return Effect.succeed(found(primary, entry))
          const variant = key.varied(primary, entry.names, headers)
          return Effect.map(store.get(resource, variant), (e) => found(variant, e))
        }),
        Effect.catchAll((error) => Effect.as(storeFailed(error, client), undefined))
      )
    }

    /** Stores a response under its variant (and a Vary marker under the primary variant when it varies). */
    const save = (
      resource: string,
      primary: string,
      headers: Record<string, string>,
      policy: semantics.Policy,
      stored: StoredResponse,
      now: number,
      client: string
    ): Effect.Effect<void> => {
      const ttl = semantics.at(now, () => policy.timeToLive()) + keepStaleMillis
      const vary = semantics.varyNames((stored.policy as { resh: Record<string, string | undefined> }).resh["vary"])
      if (vary.includes("*")) return Effect.void
      const write = vary.length === 0
        ? store.set(resource, primary, stored, ttl)
        : Effect.zipRight(
          store.set(resource, primary, { _tag: "Vary", names: vary }, ttl),
          store.set(resource, key.varied(primary, vary, headers), stored, ttl)
        )
      return Effect.catchAll(write, (error) => storeFailed(error, client))
    }

    const invalidateResource = (resource: string, client: string) => {
      internalMetrics.count(client, "invalidation")
      return Effect.catchAll(store.invalidate(resource), (error) => storeFailed(error, client))
    }

    /** RFC 9111 §4.4: after a non-error response to an unsafe method, its URL, Location and Content-Location. */
    const invalidateAfter = (context: Policy.CallContext, response: Policy.ApiResponse) => {
      const targets = new Set([context.url])
      for (const name of ["location", "content-location"]) {
        const value = response.headers[name]
        if (value !== undefined && URL.canParse(value, context.url)) {
          const target = new URL(value, context.url)
          // Only the same origin: a response must not invalidate another host's entries.
          if (target.origin === new URL(context.url).origin) targets.add(Redaction.url(target))
        }
      }
      return Effect.forEach(targets, (url) => invalidateResource(key.resource(context.client, url), context.client), {
        discard: true
      })
    }

    const wrap = (next: Policy.Send): Policy.Send => {
      /**
       * The request that goes out for a miss or a revalidation, shared by every
       * identical caller: sends it (conditional when something is stored), then
       * stores what came back.
       */
      const exchange = (
        request: HttpClientRequest.HttpClientRequest,
        context: Policy.CallContext,
        info: semantics.RequestInfo,
        resource: string,
        primary: string,
        headers: Record<string, string>,
        found: Found | undefined
      ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
        const client = context.client
        let conditional: Record<string, string> | undefined
        if (found !== undefined) {
          const validators = found.policy.revalidationHeaders(info)
          const etag = validators["if-none-match"]
          const since = validators["if-modified-since"]
          if (typeof etag === "string" || typeof since === "string") {
            conditional = {}
            if (typeof etag === "string") conditional["if-none-match"] = etag
            if (typeof since === "string") conditional["if-modified-since"] = since
          }
        }
        const full = (): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> =>
          Effect.flatMap(next(request, context), (response) => store200(response))
        const store200 = (response: Policy.ApiResponse) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const policy = semantics.make(now, info, { status: response.status, headers: response.headers }, settings)
            if (!policy.storable() || response.body.length > maxBodyBytes) return Effect.succeed(response)
            const stored: StoredResponse = {
              _tag: "Response",
              policy: policy.toObject(),
              status: response.status,
              body: response.body
            }
            return Effect.as(save(resource, primary, headers, policy, stored, now, client), response)
          })
        if (conditional === undefined || found === undefined) return full()
        internalMetrics.count(client, "revalidation")
        const sent = HttpClientRequest.setHeaders(request, conditional)
        const revalidation: Policy.CallContext = { ...context, notModified: true, cost: free ? 0 : context.cost }
        return Effect.flatMap(next(sent, revalidation), (response) => {
          if (response.status !== 304) return store200(response)
          internalMetrics.count(client, "notModified")
          if (free) internalMetrics.count(client, "permitSaved", context.cost)
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const { matches, policy } = semantics.at(
              now,
              () => found.policy.revalidatedPolicy(info, { status: 304, headers: response.headers })
            )
            // A 304 for something other than what is stored (RFC 9111 §4.3.4): ask again, unconditionally.
            if (!matches) return full()
            const stored: StoredResponse = { ...found.stored, policy: policy.toObject() }
            const headersNow = semantics.at(now, () => policy.responseHeaders())
            return Effect.as(
              Effect.zipRight(
                save(resource, primary, headers, policy, stored, now, client),
                log(context, "not-modified")
              ),
              responseOf(stored, headersNow)
            )
          })
        })
      }

      /** Answers from a stale entry when the failure allows it, else fails. */
      const fallback = (
        error: ApiError.ApiError,
        context: Policy.CallContext,
        found: Found | undefined
      ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
        if (found === undefined || !mayServeStale(found.stored, settings.shared)) return Effect.fail(error)
        return Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.flatMap(FiberRef.get(currentStale), (cell) => {
            const ageMillis = Math.round(semantics.at(now, () => found.policy.age()) * 1000)
            let reason: StaleReason | undefined
            if (serverSideFailure(error) && semantics.at(now, () => semantics.staleIfError(found.policy))) {
              reason = "stale-if-error"
            } else if (
              cell !== undefined && (error._tag === "CircuitOpen" || error._tag === "RateLimited") &&
              (cell.maxStaleMillis === undefined || ageMillis <= cell.maxStaleMillis)
            ) {
              reason = error._tag
            }
            if (reason === undefined) return Effect.fail(error)
            return Effect.as(served(context, cell, ageMillis, reason), {
              ...responseOf(found.stored, semantics.at(now, () => found.policy.responseHeaders()))
            })
          }))
      }

      const served = (
        context: Policy.CallContext,
        cell: StaleCell | undefined,
        ageMillis: number,
        reason: StaleReason
      ) => {
        internalMetrics.count(context.client, "stale")
        if (cell !== undefined) cell.served = { ageMillis, reason }
        return log(context, "stale", { reason, ageMillis })
      }

      const cached = (
        request: HttpClientRequest.HttpClientRequest,
        context: Policy.CallContext,
        headers: Record<string, string>,
        identity: string
      ): Effect.Effect<Policy.ApiResponse, ApiError.ApiError> => {
        const client = context.client
        const resource = key.resource(client, context.url)
        const primary = `${identity}\n${context.method}`
        const info: semantics.RequestInfo = { url: context.url, method: context.method, headers }
        return Effect.flatMap(
          lookup(resource, primary, headers, client),
          (found) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              const flightKey = () => key.flight(resource, primary, headers)
              const go = () => exchange(request, context, info, resource, primary, headers, found)
              if (found !== undefined) {
                const decision = semantics.evaluate(now, found.policy, info)
                if (decision.revalidation === undefined && decision.response !== undefined) {
                  internalMetrics.count(client, "hit")
                  internalMetrics.count(client, "permitSaved", context.cost)
                  return Effect.as(log(context, "hit"), responseOf(found.stored, decision.response.headers))
                }
                if (decision.response !== undefined) {
                  // stale-while-revalidate: answer now, refresh in the background (once for everyone).
                  internalMetrics.count(client, "hit")
                  const ageMillis = Math.round(semantics.at(now, () => found.policy.age()) * 1000)
                  return Effect.zipRight(
                    flights.background(flightKey(), go()),
                    Effect.flatMap(FiberRef.get(currentStale), (cell) =>
                      Effect.as(
                        served(context, cell, ageMillis, "stale-while-revalidate"),
                        responseOf(found.stored, decision.response!.headers)
                      ))
                  )
                }
              } else {
                internalMetrics.count(client, "miss")
              }
              const joined = () => {
                internalMetrics.count(client, "coalesced")
                internalMetrics.count(client, "permitSaved", context.cost)
              }
              return Effect.catchAll(
                coalesce ? flights.run(flightKey(), go(), context, joined) : go(),
                (error) => fallback(error, context, found)
              )
            })
        )
      }

      return (request, context) => {
        const method = context.method
        if (method !== "GET" && method !== "HEAD") {
          if (safeMethods.has(method)) return next(request, context)
          return Effect.tap(next(request, context), (response) => invalidateAfter(context, response))
        }
        // A streamed body (ApiClient.stream) is the caller's, not the cache's to keep.
        if (context.streamed === true || bypass(request)) return next(request, context)
        const { headers, secrets } = key.split(request)
        return Effect.flatMap(key.identity(context, secrets), (identity) => cached(request, context, headers, identity))
      }
    }

    const name = `cache(${settings.shared ? "shared" : "private"}${free ? ", 304 free" : ""})`
    // Its only waits are for a shared request, each bounded by the waiting call's deadline.
    return Policy.make("cache", name, wrap, { honorsDeadline: true })
  })

/**
 * Drops what is stored for `path` of an ApiClient (every method, variant and
 * credential), as a successful POST/PUT/PATCH/DELETE to it does.
 *
 * @since 0.1.0
 * @category combinators
 * @example
 * import { Cache } from "@apikit/cache"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const api = yield* ApiClient.make({ baseUrl: "https://api.github.com", cache: yield* Cache.make() })
 *   // ... after a write that the cache cannot see:
 *   yield* Cache.invalidate(api, "/repos/effect-ts/effect")
 * })
 */
export const invalidate = (
  api: Pick<ApiClient.ApiClient, "name" | "baseUrl">,
  path: string
): Effect.Effect<void, CacheStoreError, CacheStore> =>
  Effect.flatMap(CacheStore, (store) => {
    const base = api.baseUrl
    const url = URL.canParse(path)
      ? new URL(path)
      : new URL(`${base.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`, base)
    internalMetrics.count(api.name, "invalidation")
    return store.invalidate(key.resource(api.name, Redaction.url(url)))
  })

/**
 * How stale a served response is, from its `Age` header (for
 * {@link ApiClient.ApiClient.exchange} callers).
 *
 * @since 0.1.0
 * @category utils
 */
export const ageOf = (headers: Headers.Headers): Option.Option<Duration.Duration> => {
  const age = headers["age"]
  return age !== undefined && /^\d+$/.test(age) ? Option.some(Duration.seconds(Number(age))) : Option.none()
}
