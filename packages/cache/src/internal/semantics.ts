/**
 * RFC 9111 decisions by `http-cache-semantics` on the Effect Clock. The
 * library reads the time through its `now()` method (documented as the one to
 * patch); every decision here runs synchronously with the clock reading it is
 * given, so TestClock drives freshness, expiry and Age.
 *
 * @internal
 */
import CachePolicy from "http-cache-semantics"

let current = 0

class ClockedPolicy extends CachePolicy {
  now(): number {
    return current
  }
}

/** @internal */
export type Policy = CachePolicy

/** @internal */
export interface Settings {
  readonly shared: boolean
  readonly heuristic: number
}

/** @internal */
export type RequestInfo = CachePolicy.HttpRequest

/** A policy for a response received at `now`. @internal */
export const make = (
  now: number,
  request: RequestInfo,
  response: CachePolicy.HttpResponse,
  settings: Settings
): Policy => {
  current = now
  return new ClockedPolicy(request, response, {
    shared: settings.shared,
    cacheHeuristic: settings.heuristic,
    // `immutable` without max-age would otherwise be fresh for a day: a heuristic too.
    immutableMinTimeToLive: settings.heuristic > 0 ? 24 * 3600 * 1000 : 0
  })
}

/** A stored policy, back from its plain-JSON form. @internal */
export const revive = (object: unknown): Policy => ClockedPolicy.fromObject(object as CachePolicy.CachePolicyObject)

/** Runs `f` with the library reading `now` as the time. @internal */
export const at = <A>(now: number, f: () => A): A => {
  current = now
  return f()
}

/**
 * RFC 5861 stale-if-error: whether the stored response may answer a failed
 * request now. The library decides it inside `revalidatedPolicy`; this asks
 * the same question without a response.
 *
 * @internal
 */
export const staleIfError = (policy: Policy): boolean =>
  (policy as unknown as { _useStaleIfError: () => boolean })._useStaleIfError()

/** The header names a response varies on, lower-cased; `["*"]` never matches. @internal */
export const varyNames = (vary: string | undefined): ReadonlyArray<string> =>
  vary === undefined || vary.trim() === "" ?
    [] :
    vary.toLowerCase().split(",").map((s) => s.trim()).filter((s) => s.length > 0)
