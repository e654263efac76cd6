/**
 * The driver behind every lazy pagination stream (`Paginate` styles, GraphQL
 * connections): one page per pull, a page count, and a guard against servers
 * that do not advance.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

type Step<S, G> =
  | { readonly _tag: "Fetch"; readonly state: S; readonly pages: number }
  | { readonly _tag: "Fail"; readonly error: G }

/**
 * Drives a pagination style: `step` fetches the page for a state and says what
 * state comes next (or none).
 *
 * - A page whose next state was seen before is not emitted and the stream fails
 *   with `guard("NotAdvancing")` at once: the server is not advancing, so that
 *   page repeats one the consumer already has (a server that ignores the cursor
 *   sends the first page again; a Relay end cursor names the page's last item).
 * - After `maxPages` pages, the last page's items are emitted and the stream
 *   fails with `guard("MaxPagesExceeded")` on the next pull, so nothing that
 *   was fetched and is new is lost.
 *
 * @internal
 */
export const paginate = <S, Page, A, E, G>(options: {
  readonly initial: S
  readonly key: (state: S) => string
  readonly step: (state: S) => Effect.Effect<{ readonly page: Page; readonly next: Option.Option<S> }, E>
  readonly items: (page: Page) => Iterable<A>
  readonly maxPages: number
  readonly guard: (reason: "NotAdvancing" | "MaxPagesExceeded", pages: number) => G
}): Stream.Stream<A, E | G> =>
  Stream.suspend(() => {
    const seen = new Set<string>()
    return Stream.paginateChunkEffect<Step<S, G>, A, E | G, never>(
      { _tag: "Fetch", state: options.initial, pages: 0 },
      (current) => {
        if (current._tag === "Fail") return Effect.fail(current.error)
        const { pages, state } = current
        seen.add(options.key(state))
        return Effect.flatMap(
          options.step(state),
          ({ next, page }): Effect.Effect<readonly [Chunk.Chunk<A>, Option.Option<Step<S, G>>], G> => {
            if (Option.isSome(next) && seen.has(options.key(next.value))) {
              return Effect.fail(options.guard("NotAdvancing", pages + 1))
            }
            const items = Chunk.fromIterable(options.items(page))
            if (Option.isNone(next)) return Effect.succeed([items, Option.none()])
            return Effect.succeed([
              items,
              Option.some<Step<S, G>>(
                pages + 1 >= options.maxPages
                  ? { _tag: "Fail", error: options.guard("MaxPagesExceeded", pages + 1) }
                  : { _tag: "Fetch", state: next.value, pages: pages + 1 }
              )
            ])
          }
        )
      }
    )
  })
