import type * as Store from "../CircuitBreakerStore.js"

/** Keeps one trip policy's view of the closed circuit's recent calls. */
interface Tracker {
  add(outcome: Store.Outcome, now: number): void
  /** Why the circuit should open now, or undefined. */
  check(now: number): string | undefined
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`

/** Counts bad calls over the last `size` calls (a ring of 0/1). */
const countWindow = (size: number) => {
  const ring = new Uint8Array(size)
  let next = 0
  let calls = 0
  let bad = 0
  return {
    add(isBad: boolean) {
      if (calls === size) bad -= ring[next]!
      else calls++
      ring[next] = isBad ? 1 : 0
      bad += ring[next]!
      next = (next + 1) % size
    },
    totals: (_now: number) => ({ calls, bad })
  }
}

const buckets = 10

/** Counts bad calls over the last `millis`, in ten buckets of a tenth of it each. */
const timeWindow = (millis: number) => {
  const width = Math.max(1, Math.ceil(millis / buckets))
  const index = new Float64Array(buckets).fill(-Infinity)
  const calls = new Float64Array(buckets)
  const bad = new Float64Array(buckets)
  return {
    add(isBad: boolean, now: number) {
      const i = Math.floor(now / width)
      const slot = i % buckets
      if (index[slot] !== i) {
        index[slot] = i
        calls[slot] = 0
        bad[slot] = 0
      }
      calls[slot]!++
      if (isBad) bad[slot]!++
    },
    totals(now: number) {
      const oldest = Math.floor(now / width) - buckets + 1
      let c = 0
      let b = 0
      for (let slot = 0; slot < buckets; slot++) {
        if (index[slot]! >= oldest) {
          c += calls[slot]!
          b += bad[slot]!
        }
      }
      return { calls: c, bad: b }
    }
  }
}

const windowOf = (window: Store.Window) =>
  window._tag === "Count" ? countWindow(window.size) : timeWindow(window.millis)

const describeWindow = (window: Store.Window, calls: number) =>
  window._tag === "Count" ? `the last ${calls} calls` : `${calls} calls in the last ${window.millis} ms`

const tracker = (policy: Store.TripPolicy): Tracker => {
  switch (policy._tag) {
    case "Consecutive": {
      let run = 0
      return {
        add: (o) => {
          run = o._tag === "Failure" ? run + 1 : 0
        },
        check: () => run >= policy.failures ? `${run} consecutive failures` : undefined
      }
    }
    case "FailureRate":
    case "SlowCallRate": {
      const w = windowOf(policy.window)
      const slow = policy._tag === "SlowCallRate"
      const isBad = (o: Store.Outcome) =>
        policy._tag === "SlowCallRate" ? o.durationMillis > policy.slowerThanMillis : o._tag === "Failure"
      return {
        add: (o, now) => w.add(isBad(o), now),
        check: (now) => {
          const { bad, calls } = w.totals(now)
          if (calls === 0 || calls < policy.minimumCalls || bad / calls < policy.threshold) return undefined
          return `${slow ? "slow-call" : "failure"} rate ${pct(bad / calls)} ≥ ${pct(policy.threshold)} over ${
            describeWindow(policy.window, calls)
          }`
        }
      }
    }
  }
}

interface Circuit {
  state: Store.State
  generation: number
  opened: number
  openUntil: number
  /** Probes that succeeded in this half-open state. */
  successes: number
  /** Probe leases in flight: id → expiry (made on the first probe: most circuits never probe). */
  leases: Map<number, number> | undefined
  nextLease: number
  trackers: ReadonlyArray<Tracker>
  config: Store.Config | undefined
  /** The closed state's answer, made once per generation (the hot path allocates nothing). */
  admitted: Store.Acquired | undefined
  /** The Clock time of the last acquire or record, for idle expiry. */
  used: number
}

const isSlowProbe = (config: Store.Config, outcome: Store.Outcome) =>
  config.trip.some((p) => p._tag === "SlowCallRate" && outcome.durationMillis > p.slowerThanMillis)

const signatures = new WeakMap<Store.Config, string>()
const signature = (config: Store.Config): string => {
  let sig = signatures.get(config)
  if (sig === undefined) {
    sig = JSON.stringify(config.trip)
    signatures.set(config, sig)
  }
  return sig
}

/**
 * Whether an idle circuit can be forgotten: what the next call finds then (a
 * fresh closed circuit) is what it would have found anyway, up to history
 * that is `idleMillis` old. Isolated circuits are kept (only `reset` ends
 * them); an open circuit is kept until its open time has passed by `idleMillis`.
 */
const expired = (c: Circuit, now: number, idleMillis: number) =>
  now - c.used >= idleMillis && c.state !== "Isolated" && (c.state !== "Open" || now - c.openUntil >= idleMillis)

/**
 * The in-process circuits: the state machine every store implements. Circuits
 * idle for `idleMillis` on the caller's Clock are forgotten (see {@link expired}),
 * so one circuit per end user does not grow without bound: the map is swept at
 * most once per half of `idleMillis`, on an acquire, in one pass.
 */
export const make = (idleMillis: number) => {
  const circuits = new Map<string, Circuit>()
  let nextSweep = -Infinity

  const sweepIdle = (now: number) => {
    nextSweep = now + idleMillis / 2
    for (const [key, c] of circuits) if (expired(c, now, idleMillis)) circuits.delete(key)
  }

  const get = (key: string, now: number): Circuit => {
    let c = circuits.get(key)
    if (c === undefined) {
      c = {
        state: "Closed",
        generation: 0,
        opened: 0,
        openUntil: 0,
        successes: 0,
        leases: undefined,
        nextLease: 0,
        trackers: [],
        config: undefined,
        admitted: undefined,
        used: now
      }
      circuits.set(key, c)
    }
    return c
  }

  const move = (
    key: string,
    c: Circuit,
    to: Store.State,
    reason: Store.Reason,
    now: number,
    extra: { readonly openMillis?: number; readonly detail?: string } = {}
  ): Store.Transition => {
    const from = c.state
    c.state = to
    c.generation++
    c.successes = 0
    c.leases?.clear()
    c.admitted = undefined
    if (to === "Closed") {
      c.opened = 0
      c.trackers = c.config === undefined ? [] : c.config.trip.map(tracker)
    }
    return { key, from, to, reason, at: now, ...extra }
  }

  const open = (key: string, c: Circuit, reason: Store.Reason, openMillis: number, now: number, detail?: string) => {
    c.opened++
    c.openUntil = now + openMillis
    return move(key, c, "Open", reason, now, detail === undefined ? { openMillis } : { openMillis, detail })
  }

  /** Drops expired leases; returns the earliest expiry left (Infinity when none). */
  const sweep = (c: Circuit, now: number) => {
    let earliest = Infinity
    if (c.leases === undefined) return earliest
    for (const [id, expires] of c.leases) {
      if (expires <= now) c.leases.delete(id)
      else if (expires < earliest) earliest = expires
    }
    return earliest
  }

  const acquire = (key: string, config: Store.Config, now: number, leaseMillis: number): Store.Acquired => {
    if (now >= nextSweep) sweepIdle(now)
    const c = get(key, now)
    c.used = now
    if (c.config !== config) {
      // Breakers of several app instances share a key with equal configs: only a
      // different trip policy starts the trackers over.
      if (c.config === undefined || signature(c.config) !== signature(config)) c.trackers = config.trip.map(tracker)
      c.config = config
    }
    let transition: Store.Transition | undefined
    switch (c.state) {
      case "Closed":
        return c.admitted ??= { permit: { _tag: "Call", generation: c.generation, opened: 0 }, transition: undefined }
      case "Isolated":
        return { permit: { _tag: "Rejected", state: "Isolated", retryAfterMillis: Infinity }, transition }
      case "Open":
        if (now < c.openUntil) {
          return { permit: { _tag: "Rejected", state: "Open", retryAfterMillis: c.openUntil - now }, transition }
        }
        transition = move(key, c, "HalfOpen", "OpenElapsed", now)
    }
    const earliest = sweep(c, now)
    const leases = c.leases ??= new Map()
    if (leases.size + c.successes < config.probes) {
      const lease = ++c.nextLease
      leases.set(lease, now + leaseMillis)
      return { permit: { _tag: "Probe", generation: c.generation, opened: c.opened, lease }, transition }
    }
    // Every probe slot is taken: the next one frees when a lease reports or expires.
    const retryAfterMillis = earliest === Infinity ? 0 : earliest - now
    return { permit: { _tag: "Rejected", state: "HalfOpen", retryAfterMillis }, transition }
  }

  const record = (
    key: string,
    config: Store.Config,
    permit: Exclude<Store.Permit, { readonly _tag: "Rejected" }>,
    outcome: Store.Outcome,
    openMillis: number,
    now: number
  ): Store.Transition | undefined => {
    const c = circuits.get(key)
    // An outcome from an older state (a call admitted before the circuit opened) says nothing about this one.
    if (c === undefined || c.generation !== permit.generation) return undefined
    c.used = now
    if (c.state === "Closed") {
      if (outcome._tag === "Ignored") return undefined
      let detail: string | undefined
      for (const t of c.trackers) {
        t.add(outcome, now)
        detail ??= t.check(now)
      }
      return detail === undefined ? undefined : open(key, c, "Tripped", openMillis, now, detail)
    }
    if (c.state !== "HalfOpen" || permit._tag !== "Probe" || c.leases?.delete(permit.lease) !== true) return undefined
    if (outcome._tag === "Ignored") return undefined
    if (outcome._tag === "Failure" || isSlowProbe(config, outcome)) {
      return open(
        key,
        c,
        "ProbeFailed",
        openMillis,
        now,
        outcome._tag === "Failure" ? "a probe failed" : `a probe took ${outcome.durationMillis} ms`
      )
    }
    c.successes++
    return c.successes >= config.probes
      ? move(key, c, "Closed", "ProbesSucceeded", now, { detail: `${c.successes} probe(s) succeeded` })
      : undefined
  }

  const isolate = (key: string, now: number) => {
    const c = get(key, now)
    return c.state === "Isolated" ? undefined : move(key, c, "Isolated", "Isolated", now)
  }

  const reset = (key: string, now: number) => {
    const c = get(key, now)
    if (c.state === "Closed") {
      c.trackers = c.config === undefined ? [] : c.config.trip.map(tracker)
      return undefined
    }
    return move(key, c, "Closed", "Reset", now)
  }

  const snapshot = (key: string, now: number): Store.Snapshot => {
    const c = circuits.get(key)
    if (c === undefined) return { state: "Closed", opened: 0, retryAfterMillis: undefined }
    const retryAfterMillis = c.state === "Open"
      ? Math.max(0, c.openUntil - now)
      : c.state === "Isolated"
      ? Infinity
      : undefined
    return { state: c.state, opened: c.opened, retryAfterMillis }
  }

  return { acquire, record, isolate, reset, snapshot, size: () => circuits.size }
}
