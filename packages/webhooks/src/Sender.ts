/**
 * Sends webhooks in Standard Webhooks format with the retry schedule of the
 * spec and Svix: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h
 * and 10 h, each wait jittered (from `Random`), a `Retry-After` from the
 * endpoint as a floor. Every attempt is signed afresh (new timestamp, same
 * id), times out after 15 s, and is reported as data. 2xx is success; 410
 * Gone disables the endpoint (no more attempts); 3xx is a failure, like any other status.
 *
 * @since 0.1.0
 * @example
 * import { Sender } from "@apikit/webhooks"
 * import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
 * import { Effect, Redacted } from "effect"
 *
 * const report = Sender.deliver({
 *   url: "https://customer.example.com/webhooks",
 *   secrets: [Redacted.make("whsec_…")],
 *   id: "msg_2Lx…",
 *   body: JSON.stringify({ type: "invoice.paid", data: { id: "in_1" } })
 * }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 */
import * as Redaction from "@apikit/http/Redaction"
import * as RetryAfter from "@apikit/http/RetryAfter"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import * as StandardWebhooks from "./StandardWebhooks.js"
import type * as Webhook from "./Webhook.js"

/**
 * The waits before each retry: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (eight attempts in all).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultSchedule: ReadonlyArray<Duration.Duration> = [
  Duration.seconds(5),
  Duration.minutes(5),
  Duration.minutes(30),
  Duration.hours(2),
  Duration.hours(5),
  Duration.hours(10),
  Duration.hours(10)
]

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly url: string
  /** `whsec_` secrets; each adds a signature (rotation). */
  readonly secrets: Webhook.Secrets
  /** The message id, the same on every attempt so the receiver can drop duplicates. */
  readonly id: string
  /** The serialized payload, sent byte for byte. */
  readonly body: Uint8Array | string
  readonly contentType?: string
  /** Waits before each retry. Default {@link defaultSchedule}. */
  readonly schedule?: ReadonlyArray<Duration.DurationInput>
  /** Each wait is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter?: number
  /** Per attempt. Default 15 seconds. */
  readonly timeout?: Duration.DurationInput
  /** Called with each attempt's outcome as it happens (persist it, emit a metric). */
  readonly onAttempt?: (attempt: Attempt) => Effect.Effect<void>
}

/**
 * The outcome of one attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  /** 1-based. */
  readonly attempt: number
  /** When it started, epoch milliseconds on the Effect `Clock`. */
  readonly startedAt: number
  /** The signed `webhook-timestamp`, Unix seconds. */
  readonly timestamp: number
  readonly outcome: "Delivered" | "Failed" | "Gone" | "Timeout" | "TransportError"
  readonly status: number | undefined
  readonly retryAfter: Duration.Duration | undefined
  /** The wait before the next attempt; undefined when this was the last one. */
  readonly nextAttemptIn: Duration.Duration | undefined
}

/**
 * How a delivery ended, with every attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly id: string
  readonly result: "Delivered" | "Exhausted" | "EndpointDisabled"
  readonly attempts: ReadonlyArray<Attempt>
}

type Sent =
  | { readonly outcome: "Delivered" | "Failed" | "Gone"; readonly status: number; readonly retryAfter?: string }
  | { readonly outcome: "Timeout" | "TransportError" }

/**
 * Delivers one message, retrying on the schedule; never fails once started
 * (the outcome is data). Fails only when a secret is not a valid `whsec_` secret.
 *
 * @since 0.1.0
 * @category delivery
 */
export const deliver = (options: Options): Effect.Effect<Report, Webhook.WebhookConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const sign = yield* StandardWebhooks.signer(options.secrets)
    // No trace headers to a third party, and no platform span: it would record the full URL,
    // query included; apikit's own span carries the masked URL instead.
    const client = HttpClient.withTracerPropagation(
      HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true),
      false
    )
    const body = typeof options.body === "string" ? new TextEncoder().encode(options.body) : options.body
    const schedule = (options.schedule ?? defaultSchedule).map(Duration.decode)
    const jitter = options.jitter ?? 0.2
    const timeout = options.timeout ?? Duration.seconds(15)
    const attempts: Array<Attempt> = []

    for (let n = 1;; n++) {
      const startedAt = yield* Clock.currentTimeMillis
      const timestamp = Math.floor(startedAt / 1000)
      const request = HttpClientRequest.post(options.url).pipe(
        HttpClientRequest.setHeaders(sign({ id: options.id, timestamp, body })),
        HttpClientRequest.bodyUint8Array(body, options.contentType ?? "application/json")
      )
      const sent: Sent = yield* client.execute(request).pipe(
        // Read (at most 64 KiB of) the body so the connection is released, not left to the GC.
        Effect.tap((response) =>
          Effect.ignore(Stream.runFoldWhile(response.stream, 0, (n) => n < 65536, (n, chunk) => n + chunk.length))
        ),
        Effect.map((response): Sent => ({
          outcome: response.status >= 200 && response.status < 300
            ? "Delivered"
            : response.status === 410
            ? "Gone"
            : "Failed",
          status: response.status,
          ...(response.headers["retry-after"] !== undefined ? { retryAfter: response.headers["retry-after"] } : {})
        })),
        Effect.timeoutOption(timeout),
        Effect.map(Option.getOrElse((): Sent => ({ outcome: "Timeout" }))),
        Effect.catchAll(() => Effect.succeed<Sent>({ outcome: "TransportError" }))
      )
      const now = yield* Clock.currentTimeMillis
      const retryAfter = "retryAfter" in sent ? RetryAfter.parse(sent.retryAfter, now) : undefined
      const last = sent.outcome === "Delivered" || sent.outcome === "Gone" || n > schedule.length
      let nextAttemptIn: Duration.Duration | undefined
      if (!last) {
        const factor = jitter > 0 ? yield* Random.nextRange(1 - jitter, 1 + jitter) : 1
        const jittered = Duration.millis(Math.round(Duration.toMillis(schedule[n - 1]!) * factor))
        // Retry-After is the endpoint's floor; it is never jittered below.
        nextAttemptIn = retryAfter === undefined ? jittered : Duration.max(jittered, retryAfter)
      }
      const attempt: Attempt = {
        attempt: n,
        startedAt,
        timestamp,
        outcome: sent.outcome,
        status: "status" in sent ? sent.status : undefined,
        retryAfter,
        nextAttemptIn
      }
      attempts.push(attempt)
      if (options.onAttempt !== undefined) yield* options.onAttempt(attempt)
      yield* Effect.logDebug("webhook attempt").pipe(
        Effect.annotateLogs({ id: options.id, attempt: n, outcome: sent.outcome, status: attempt.status ?? "" })
      )
      if (nextAttemptIn === undefined) {
        const result = sent.outcome === "Delivered"
          ? "Delivered"
          : sent.outcome === "Gone"
          ? "EndpointDisabled"
          : "Exhausted"
        return { id: options.id, result, attempts } satisfies Report
      }
      yield* Effect.sleep(nextAttemptIn)
    }
  }).pipe(Effect.withSpan("apikit.webhook.deliver", {
    attributes: {
      "webhook.id": options.id,
      "url.full": URL.canParse(options.url) ? Redaction.url(new URL(options.url)) : ""
    }
  }))
