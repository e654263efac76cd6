import type * as Store from "../CircuitBreakerStore.js"

/**
 * The memory store's synchronous operations, under a private symbol: the
 * breaker skips two effect steps per call when it finds them. Not part of the
 * store contract; third-party stores never see it.
 */
export const fastPath: unique symbol = Symbol.for("@apikit/circuit-breaker/internal/fastPath")

export interface FastPath {
  readonly acquire: (request: Store.AcquireRequest) => Store.Acquired
  readonly record: (request: Store.RecordRequest) => Store.Transition | undefined
}

/** The synchronous operations of apikit's own memory store, if `store` is one. */
export const of = (store: Store.Store): FastPath | undefined =>
  (store as Store.Store & { readonly [fastPath]?: FastPath })[fastPath]
