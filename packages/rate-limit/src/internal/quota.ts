/**
 * The arithmetic of a learned quota, one key's state as plain numbers. The
 * memory store runs these functions; the Redis store runs the same steps in
 * Lua (`@apikit/redis` `internal/quotaLua.ts`), and both pass one contract suite.
 *
 * - `remaining` is what the server last said is left in the current window
 *   (its epoch); calls admitted since and not answered yet are `inflight`
 *   (this epoch) and `previous` (the epoch before: they may land in this
 *   window, so they count against it too). A call is admitted when its cost
 *   fits in `remaining - inflight - previous`. A call whose fiber was
 *   interrupted is never released: it stays counted in its epoch and the next
 *   (the server may have counted it). While nothing is known, an epoch still
 *   ends, a window but at least {@link presumedLost} after its first call, so
 *   such calls never pile up.
 * - Within an epoch `remaining` only goes down: an answer that says more is
 *   left than a later one is stale (it was counted before), and is ignored.
 * - The epoch rolls when its reset passes (the budget is then the server's
 *   limit), or when an answer names a reset at least half a window later than
 *   the known one (the server's window already rolled).
 */

/**
 * How long a call the client never hears the end of (its fiber was interrupted) can matter,
 * in ms: a window nobody answered is held open no longer past its reset, and while nothing is
 * known an epoch lasts at least this long. Answers come far sooner; timeouts end the rest.
 */
export const presumedLost = 60_000

/** One key's state. Times are epoch milliseconds on the Effect Clock; 0 means unknown. */
export interface State {
  /** The window counter. */
  epoch: number
  /** Left in this window as the server last said; -1 unknown (nothing is gated). */
  remaining: number
  /** When this window ends (an upper bound: resets are rounded up); 0 unknown. */
  resetAt: number
  /** Whether an answer from this epoch has set `remaining`. */
  observed: boolean
  /** Cost admitted in this epoch and not answered. */
  inflight: number
  /** Cost admitted in the previous epoch and not answered. */
  previous: number
  /** The server's limit per window; 0 unknown. */
  limit: number
  /** The server's window; 0 unknown. */
  window: number
  /** No call before this time (a 429's Retry-After). */
  pausedUntil: number
  /** The last time the key was used, for idle expiry. */
  touched: number
}

/** What one answer (or a report) said, in absolute times. */
export interface Observation {
  readonly limit?: number | undefined
  readonly remaining?: number | undefined
  readonly resetAt?: number | undefined
  readonly window?: number | undefined
  readonly pauseUntil?: number | undefined
}

/** The outcome of asking for a permit: admitted in `epoch`, or wait until `until`, or never (cost above the limit). */
export type Admission =
  | { readonly _tag: "Admitted"; readonly epoch: number }
  | { readonly _tag: "Wait"; readonly until: number; readonly paused: boolean }
  | { readonly _tag: "TooCostly"; readonly limit: number }

export const empty = (now: number): State => ({
  epoch: 0,
  remaining: -1,
  resetAt: 0,
  observed: false,
  inflight: 0,
  previous: 0,
  limit: 0,
  window: 0,
  pausedUntil: 0,
  touched: now
})

/** A new epoch: what is in flight becomes the previous epoch's, and drops out at the next one. */
const shift = (s: State) => {
  s.epoch++
  s.previous = s.inflight
  s.inflight = 0
  s.resetAt = 0
}

/** A new window: the server's limit, if known, is what remains. */
const roll = (s: State) => {
  shift(s)
  s.remaining = s.limit > 0 ? s.limit : -1
  s.observed = false
}

/**
 * The part of the server's limit this client does not use when its configured
 * limit is lower: `configured` per `fallbackWindow` scaled to the server's
 * window. Only when the server named its window; otherwise the windows are not
 * comparable, and the configured limiter alone keeps the configured rate.
 */
const unused = (s: State, configured: number, fallbackWindow: number): number =>
  s.limit > 0 && s.window > 0 ? Math.max(0, s.limit - Math.floor((configured * s.window) / fallbackWindow)) : 0

/**
 * Asks for `cost` at `now`. `configured` per `fallbackWindow` is the
 * configured limit: the window is used until the server's is known, and the
 * limit caps the server's when it is lower.
 */
export const acquire = (
  s: State,
  now: number,
  cost: number,
  configured: number,
  fallbackWindow: number
): Admission => {
  s.touched = now
  if (s.pausedUntil > now) return { _tag: "Wait", until: s.pausedUntil, paused: true }
  if (s.resetAt > 0 && now >= s.resetAt) {
    if (s.remaining < 0) {
      // Nothing known, and the epoch was nominal (below): only the counts move on.
      shift(s)
    } else {
      // A window this client started ends a window after the server saw its first call, which
      // is later than when it was sent: until an answer says when, calls in flight hold it
      // open, for a window but never more than `presumedLost` (an interrupted call never answers).
      const hold = s.resetAt + Math.min(s.window || fallbackWindow, presumedLost)
      if (s.observed || s.inflight === 0 || now >= hold) roll(s)
      else return { _tag: "Wait", until: hold, paused: false }
    }
  }
  if (s.remaining < 0) {
    // Nothing known: calls are counted only to be taken off the first answer's remaining. The
    // epoch still ends, a window but at least `presumedLost` after its first call, so calls that
    // never answer do not pile up, and calls slower than a window still count.
    if (s.resetAt === 0) s.resetAt = now + Math.max(s.window || fallbackWindow, presumedLost)
    s.inflight += cost
    return { _tag: "Admitted", epoch: s.epoch }
  }
  const offset = unused(s, configured, fallbackWindow)
  if (s.limit > 0 && cost > s.limit - offset) return { _tag: "TooCostly", limit: s.limit - offset }
  // A rolled window starts with its first call.
  if (s.resetAt === 0) s.resetAt = now + (s.window || fallbackWindow)
  if (cost <= s.remaining - offset - s.inflight - s.previous) {
    s.inflight += cost
    return { _tag: "Admitted", epoch: s.epoch }
  }
  return { _tag: "Wait", until: s.resetAt, paused: false }
}

/**
 * Applies what the server said. `epoch` is the epoch the answered call was
 * admitted in (undefined for a report that answers no call: it is current).
 * Returns whether the server's limit or window changed.
 */
export const observe = (
  s: State,
  now: number,
  o: Observation,
  epoch: number | undefined,
  fallbackWindow: number
): boolean => {
  s.touched = now
  if (o.pauseUntil !== undefined && o.pauseUntil > s.pausedUntil) s.pausedUntil = o.pauseUntil
  let changed = false
  if (o.limit !== undefined && o.limit > 0 && o.limit !== s.limit) {
    s.limit = o.limit
    changed = true
  }
  if (o.window !== undefined && o.window > 0 && o.window !== s.window) {
    s.window = o.window
    changed = true
  }
  if (o.remaining === undefined) return changed
  const remaining = s.limit > 0 ? Math.min(Math.max(0, o.remaining), s.limit) : Math.max(0, o.remaining)
  const resetAt = Math.max(now, o.resetAt ?? now + (s.window || fallbackWindow))
  const window = s.window || fallbackWindow
  // (While nothing is known, the epoch's reset is nominal, and any answer is the first word.)
  if (s.remaining >= 0 && s.resetAt > 0 && resetAt >= s.resetAt + window / 2) {
    // The server's window rolled before ours: this answer is from the next one.
    roll(s)
  } else if (s.remaining >= 0 && epoch !== undefined && epoch !== s.epoch) {
    // A call admitted in an earlier window, answered after this one began: the server may
    // have counted it in this window (it was slow to arrive). Its remaining may lower this
    // window's budget, never raise it; its reset is the old window's and is not used.
    if (remaining < s.remaining) s.remaining = remaining
    return changed
  }
  if (!s.observed) {
    s.remaining = remaining
    s.resetAt = resetAt
    s.observed = true
  } else if (remaining <= s.remaining) {
    // Every reset of one window is an upper bound of the same instant (they
    // are rounded up): keep the tightest. (A reset of a later window rolled above.)
    s.remaining = remaining
    s.resetAt = Math.min(s.resetAt, resetAt)
  }
  return changed
}

/**
 * A call admitted in `epoch` is over. `sent` is false when it was never sent
 * (refused by another gate). A sent call the server answered without a
 * remaining count is charged to the budget, as the server counted it.
 */
export const release = (
  s: State,
  now: number,
  cost: number,
  epoch: number,
  sent: boolean,
  o: Observation | undefined,
  fallbackWindow: number
): boolean => {
  if (epoch === s.epoch) s.inflight = Math.max(0, s.inflight - cost)
  else if (epoch === s.epoch - 1) s.previous = Math.max(0, s.previous - cost)
  if (!sent) return false
  const changed = o === undefined ? false : observe(s, now, o, epoch, fallbackWindow)
  // An answer that did not say what remains (a limit alone, or nothing): the server counted it.
  if (o?.remaining === undefined && epoch === s.epoch && s.remaining >= 0) {
    s.remaining = Math.max(0, s.remaining - cost)
  }
  return changed
}

/**
 * A state with no pause and no window in progress can be forgotten after `idle` ms unused (as the
 * Redis store's key expires). Calls still counted in flight do not keep it: an interrupted call
 * never settles, and an answer that comes after `idle` settles into a fresh state harmlessly.
 */
export const expired = (s: State, now: number, idle: number): boolean =>
  s.pausedUntil <= now && s.resetAt <= now && now - s.touched >= idle

/**
 * The memory store's synchronous entry points, under a private symbol: the
 * limiter calls them inside its own clock read instead of going through two
 * Effects per call. Not part of the QuotaStore contract (other stores never
 * see it); the results are the same as the store's Effects.
 */
export const syncPath: unique symbol = Symbol.for("@apikit/rate-limit/internal/quota/sync")

export interface Snapshot {
  readonly limit: number | undefined
  readonly window: number | undefined
  readonly available: number | undefined
  readonly changed: boolean
}

export interface SyncStore {
  readonly acquire: (key: string, now: number, cost: number, configured: number, fallbackWindow: number) => Admission
  /** `epoch` undefined: a report that answers no call. */
  readonly settle: (
    key: string,
    now: number,
    cost: number,
    epoch: number | undefined,
    sent: boolean,
    o: Observation | undefined,
    fallbackWindow: number
  ) => Snapshot
}

export const syncOf = (store: object): SyncStore | undefined => (store as { readonly [syncPath]?: SyncStore })[syncPath]
