/**
 * How `pnpm example` reports a failed example: one line naming the typed error
 * and its message (which says what happened and what to do), never an Effect
 * stack trace through the runtime's internals.
 */
import { Cause, Option } from "effect"

/** The one line to print for a failed example, or undefined when it was only interrupted (Ctrl-C). */
export const failureLine = (cause: Cause.Cause<unknown>): string | undefined => {
  if (Cause.isInterruptedOnly(cause)) return undefined
  const failure = Cause.failureOption(cause)
  const error: unknown = Option.isSome(failure) ? failure.value : Option.getOrUndefined(Cause.dieOption(cause))
  const kind = Option.isSome(failure) ? "" : "defect: "
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const { _tag, message } = error as { readonly _tag?: unknown; readonly message?: unknown }
    const name = typeof _tag === "string" ? _tag : error instanceof Error ? error.name : "Error"
    return `${kind}${name}: ${String(message).split("\n")[0]}`
  }
  return `${kind}${String(error).split("\n")[0]}`
}
