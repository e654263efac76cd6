/**
 * Captures every log line (all levels) and every span (name, attributes,
 * events, exit) of the effects it is provided to, so tests can assert on
 * observability and, above all, that no secret ever shows up in it.
 *
 * @since 0.1.0
 * @example
 * import { Capture } from "@apikit/testing"
 * import { Effect } from "effect"
 *
 * const leaked = Effect.gen(function*() {
 *   yield* Effect.logDebug("calling", { token: "t0p-secret" })
 *   const capture = yield* Capture.Capture
 *   return capture.dump().includes("t0p-secret")
 * }).pipe(Effect.provide(Capture.layer))
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"

/**
 * One captured log line.
 *
 * @since 0.1.0
 * @category models
 */
export interface CapturedLog {
  readonly level: string
  readonly message: unknown
  readonly annotations: Readonly<Record<string, unknown>>
  readonly spans: ReadonlyArray<string>
  /** The pretty-printed cause, empty when the line has none. */
  readonly cause: string
}

/**
 * One captured span.
 *
 * @since 0.1.0
 * @category models
 */
export interface CapturedSpan {
  readonly name: string
  readonly attributes: ReadonlyMap<string, unknown>
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Readonly<Record<string, unknown>> }>
  readonly parent: string | undefined
  /** The pretty-printed exit, once the span has ended. */
  exit: string | undefined
}

/**
 * The captured logs and spans.
 *
 * @since 0.1.0
 * @category services
 */
export class Capture extends Context.Tag("@apikit/testing/Capture")<Capture, {
  readonly logs: ReadonlyArray<CapturedLog>
  readonly spans: ReadonlyArray<CapturedSpan>
  /** Everything captured, as one string: search it for secrets. */
  readonly dump: () => string
}>() {}

let ids = 0

/**
 * A layer that captures logs (at every level) and spans, and provides {@link Capture}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Capture> = Layer.unwrapEffect(Effect.sync(() => {
  const logs: Array<CapturedLog> = []
  const spans: Array<CapturedSpan> = []

  const logger = Logger.make(({ annotations, cause, logLevel, message, spans: logSpans }) => {
    const record: Record<string, unknown> = {}
    for (const [k, v] of annotations) record[k] = v
    logs.push({
      level: logLevel.label,
      message,
      annotations: record,
      spans: Array.from(logSpans, (s) => s.label),
      cause: Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true })
    })
  })

  const tracer = Tracer.make({
    span(name, parent, context, links, startTime, kind) {
      const attributes = new Map<string, unknown>()
      const events: Array<{ name: string; attributes: Record<string, unknown> }> = []
      const captured: CapturedSpan = {
        name,
        attributes,
        events,
        parent: Option.isSome(parent) && parent.value._tag === "Span" ? parent.value.name : undefined,
        exit: undefined
      }
      spans.push(captured)
      const span: Tracer.Span = {
        _tag: "Span",
        name,
        spanId: `span-${++ids}`,
        traceId: "trace",
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links: [...links],
        sampled: true,
        kind,
        end(endTime, exit) {
          ;(span as { status: Tracer.SpanStatus }).status = { _tag: "Ended", startTime, endTime, exit }
          captured.exit = Exit.isSuccess(exit) ? "success" : Cause.pretty(exit.cause, { renderErrorCause: true })
        },
        attribute(key, value) {
          attributes.set(key, value)
        },
        event(eventName, _startTime, eventAttributes) {
          events.push({ name: eventName, attributes: eventAttributes ?? {} })
        },
        addLinks() {}
      }
      return span
    },
    context: (f) => f()
  })

  const dump = () =>
    [
      ...logs.map((l) =>
        `log ${l.level} ${Inspectable.toStringUnknown(l.message)} ${
          Inspectable.toStringUnknown(l.annotations)
        } ${l.cause}`
      ),
      ...spans.map((s) =>
        `span ${s.name} ${Inspectable.toStringUnknown(Object.fromEntries(s.attributes))} ${
          Inspectable.toStringUnknown(s.events)
        } ${s.exit ?? ""}`
      )
    ].join("\n")

  return Layer.mergeAll(
    Logger.replace(Logger.defaultLogger, logger),
    Logger.minimumLogLevel(LogLevel.All),
    Layer.setTracer(tracer),
    Layer.succeed(Capture, { logs, spans, dump })
  )
}))
