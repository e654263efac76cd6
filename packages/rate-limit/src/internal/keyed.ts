/**
 * A per-key map that forgets expired entries as new keys arrive: each new key
 * looks at the two oldest entries, drops them when expired, and moves them to
 * the back otherwise. So a map touched by a million keys once holds only the
 * keys still live, at the cost of two checks per new key, and no timer.
 */
export interface Keyed<V> {
  readonly get: (key: string) => V | undefined
  /** Adds the entry of a key that has none (look with `get` first: this path allocates nothing else). */
  readonly insert: (key: string, now: number, value: V) => V
  readonly size: () => number
}

export const make = <V>(expired: (value: V, now: number) => boolean): Keyed<V> => {
  const map = new Map<string, V>()
  const sweep = (now: number) => {
    for (let i = 0; i < 2; i++) {
      const first = map.entries().next()
      if (first.done === true) return
      const [key, value] = first.value
      map.delete(key)
      if (!expired(value, now)) map.set(key, value)
    }
  }
  return {
    get: (key) => map.get(key),
    insert: (key, now, value) => {
      sweep(now)
      map.set(key, value)
      return value
    },
    size: () => map.size
  }
}
