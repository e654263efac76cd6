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

/** The library's parsed response directives (a field of its own, kept through toObject). */
const directivesOf = (policy: Policy): Record<string, string | boolean> =>
  (policy as unknown as { _rescc: Record<string, string | boolean> })._rescc

/** Numeric directives that appear more than once with different values, each with its smallest value. */
const conflicting = (cacheControl: string): Map<string, number> => {
  const seen = new Map<string, string>()
  const out = new Map<string, number>()
  for (const part of cacheControl.split(",")) {
    const [name, value = ""] = part.trim().toLowerCase().split("=", 2) as [string, string?]
    if (name === "") continue
    const before = seen.get(name)
    if (before !== undefined && before !== value) {
      const n = Math.min(Number.parseInt(before, 10), Number.parseInt(value, 10), out.get(name) ?? Infinity)
      out.set(name, Number.isFinite(n) ? n : 0)
    }
    seen.set(name, value)
  }
  return out
}

/**
 * A policy for a response received at `now`. Where the library departs from
 * RFC 9111, the policy is corrected here (each found by the comparison with
 * undici's cache in the tests):
 * - `Pragma: no-cache` on a response means nothing (RFC 9111 §5.4 defines
 *   Pragma for requests only); the library reads it as `no-cache`.
 * - conflicting values of one directive (`max-age=5, max-age=3600`) are
 *   invalid (§4.2.1); the library takes the last one, this takes the
 *   smallest (as undici does): never fresher than any of them.
 * - `immutable` is not a minimum freshness of a day (RFC 8246); with
 *   heuristics on it is a year when nothing else gives a freshness.
 *
 * @internal
 */
export const make = (
  now: number,
  request: RequestInfo,
  response: CachePolicy.HttpResponse,
  settings: Settings
): Policy => {
  current = now
  const policy = new ClockedPolicy(request, response, {
    shared: settings.shared,
    cacheHeuristic: settings.heuristic,
    // The library makes `immutable` fresh for at least a day even past its max-age / Expires; RFC 8246
    // only says a fresh one needs no revalidation. See the heuristic below instead.
    immutableMinTimeToLive: 0
  })
  const cacheControl = response.headers["cache-control"]
  const directives = directivesOf(policy)
  if (typeof cacheControl !== "string") delete directives["no-cache"]
  else if (cacheControl.includes(",")) {
    for (const [name, smallest] of conflicting(cacheControl)) directives[name] = String(smallest)
  }
  // With heuristics on, an `immutable` response with no other freshness source is fresh for a year (undici's
  // heuristic); Last-Modified, when present, gives the heuristic as usual.
  if (
    settings.heuristic > 0 && directives["immutable"] !== undefined && directives["max-age"] === undefined &&
    response.headers["expires"] === undefined && response.headers["last-modified"] === undefined
  ) directives["max-age"] = "31536000"
  return policy
}

/**
 * The library's `evaluateRequest`, except that `must-revalidate` constrains
 * only the use of a stale response (RFC 9111 §5.2.2.2): the library
 * revalidates even a fresh one.
 *
 * @internal
 */
export const evaluate = (now: number, policy: Policy, request: RequestInfo): CachePolicy.EvaluateRequestResult => {
  current = now
  const directives = directivesOf(policy)
  const mustRevalidate = directives["must-revalidate"]
  if (mustRevalidate === undefined || policy.stale()) return policy.evaluateRequest(request)
  delete directives["must-revalidate"]
  const result = policy.evaluateRequest(request)
  directives["must-revalidate"] = mustRevalidate
  return result
}

// A memory store hands back the same objects: each is revived once.
const revived = new WeakMap<object, Policy>()

/** A stored policy, back from its plain-JSON form. @internal */
export const revive = (object: unknown): Policy => {
  let policy = revived.get(object as object)
  if (policy === undefined) {
    policy = ClockedPolicy.fromObject(object as CachePolicy.CachePolicyObject)
    revived.set(object as object, policy)
  }
  return policy
}

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
