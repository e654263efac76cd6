/**
 * Where cached responses live. An entry is found by its resource (the
 * integration and the masked URL) and its variant (the credential's identity,
 * the method and, for a response with `Vary`, the values of the headers it
 * names). Invalidating a resource drops every variant of it, for every
 * credential.
 *
 * The memory store keeps entries in this process, bounded by count and bytes
 * (least recently used first out); `@apikit/redis` shares them across
 * instances.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as memory from "./internal/memory.js"

/**
 * A stored response: the cache policy's serialized state (request and
 * response headers, when it was received) and the raw body bytes, so any
 * call's Schema can decode it.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredResponse {
  readonly _tag: "Response"
  /** `http-cache-semantics`' `CachePolicy.toObject()`: plain JSON. */
  readonly policy: unknown
  readonly status: number
  readonly body: Uint8Array
}

/**
 * Stored where a response with `Vary` was: the header names whose values
 * pick its variant.
 *
 * @since 0.1.0
 * @category models
 */
export interface VaryMarker {
  readonly _tag: "Vary"
  readonly names: ReadonlyArray<string>
}

/**
 * What a store holds under one variant.
 *
 * @since 0.1.0
 * @category models
 */
export type Entry = StoredResponse | VaryMarker

/**
 * A store operation failed (Redis down, a corrupt entry). The cache stage
 * logs it and carries on without the cache: a store outage never fails a call.
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheStoreError extends Schema.TaggedError<CacheStoreError>()("CacheStoreError", {
  message: Schema.String
}) {}

/**
 * The operations of a cache store.
 *
 * @since 0.1.0
 * @category services
 */
export interface Service {
  readonly get: (resource: string, variant: string) => Effect.Effect<Entry | undefined, CacheStoreError>
  /** Stores `entry`; it may be dropped after `ttlMillis` (a store may drop it earlier to stay in bounds). */
  readonly set: (
    resource: string,
    variant: string,
    entry: Entry,
    ttlMillis: number
  ) => Effect.Effect<void, CacheStoreError>
  /** Drops every variant of `resource`. */
  readonly invalidate: (resource: string) => Effect.Effect<void, CacheStoreError>
}

/**
 * Bounds of the memory store.
 *
 * @since 0.1.0
 * @category options
 */
export interface MemoryOptions {
  /** Most entries kept (default 1,000). */
  readonly maxEntries?: number | undefined
  /** Most bytes of bodies and headers kept (default 64 MiB). */
  readonly maxBytes?: number | undefined
}

/**
 * The cache store service.
 *
 * @since 0.1.0
 * @category services
 */
export class CacheStore extends Context.Tag("@apikit/cache/CacheStore")<CacheStore, Service>() {
  /** A memory store with the default bounds. */
  static readonly layerMemory: Layer.Layer<CacheStore> = Layer.sync(CacheStore, () => memory.make({}))
}

/**
 * A memory store with the default bounds (1,000 entries, 64 MiB).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<CacheStore> = CacheStore.layerMemory

/**
 * A memory store with the given bounds.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemoryWith = (options: MemoryOptions): Layer.Layer<CacheStore> =>
  Layer.sync(CacheStore, () => memory.make(options))

/**
 * Makes a memory store (what the memory layers provide), for tests that look inside it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: MemoryOptions = {}): Service & { readonly size: () => number } =>
  memory.make(options)
