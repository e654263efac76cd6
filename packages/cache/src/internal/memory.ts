/**
 * The memory cache store: a Map in recency order (least recently used first),
 * bounded by entries and bytes, with a per-URL index so invalidating a
 * resource finds its variants without a scan.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { CacheStoreError, Entry, MemoryOptions, Service } from "../CacheStore.js"

interface Slot {
  readonly resource: string
  readonly entry: Entry
  readonly expiresAt: number
  readonly bytes: number
}

/** Bytes an entry holds, roughly: its body, and its stored headers counted by length. */
const sizeOf = (entry: Entry): number => {
  if (entry._tag === "Vary") return 64 + entry.names.join(",").length
  let size = 512 + entry.body.length
  const headers = (entry.policy as { resh?: Record<string, unknown> }).resh
  if (headers !== undefined) {
    for (const name in headers) {
      const value = headers[name]
      size += name.length + (typeof value === "string" ? value.length : 16)
    }
  }
  return size
}

/** @internal */
export const make = (options: MemoryOptions): Service & { readonly size: () => number } => {
  const maxEntries = options.maxEntries ?? 1000
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024
  const slots = new Map<string, Slot>()
  const byResource = new Map<string, Set<string>>()
  let bytes = 0

  const remove = (key: string) => {
    const slot = slots.get(key)
    if (slot === undefined) return
    slots.delete(key)
    bytes -= slot.bytes
    const keys = byResource.get(slot.resource)
    if (keys !== undefined) {
      keys.delete(key)
      if (keys.size === 0) byResource.delete(slot.resource)
    }
  }

  const keyOf = (resource: string, variant: string) => `${resource}\u0000${variant}`

  const get = (resource: string, variant: string): Effect.Effect<Entry | undefined, CacheStoreError> =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const key = keyOf(resource, variant)
      const slot = slots.get(key)
      if (slot === undefined) return undefined
      if (slot.expiresAt <= now) {
        remove(key)
        return undefined
      }
      // Most recently used goes last.
      slots.delete(key)
      slots.set(key, slot)
      return slot.entry
    })

  const set = (
    resource: string,
    variant: string,
    entry: Entry,
    ttlMillis: number
  ): Effect.Effect<void, CacheStoreError> =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const key = keyOf(resource, variant)
      remove(key)
      const size = sizeOf(entry)
      if (size > maxBytes || ttlMillis <= 0) return
      slots.set(key, { resource, entry, expiresAt: now + ttlMillis, bytes: size })
      bytes += size
      let keys = byResource.get(resource)
      if (keys === undefined) {
        keys = new Set()
        byResource.set(resource, keys)
      }
      keys.add(key)
      // Evict from the least recently used end until within bounds.
      for (const oldest of slots.keys()) {
        if (slots.size <= maxEntries && bytes <= maxBytes) break
        remove(oldest)
      }
    })

  const invalidate = (resource: string): Effect.Effect<void, CacheStoreError> =>
    Effect.sync(() => {
      const keys = byResource.get(resource)
      if (keys === undefined) return
      for (const key of [...keys]) remove(key)
    })

  return { get, set, invalidate, size: () => slots.size }
}
