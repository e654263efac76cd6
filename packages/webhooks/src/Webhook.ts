/**
 * The shared model of webhook verification: the request a verifier reads, what
 * it returns, the {@link Verifier} interface every scheme implements, and the
 * one error type, {@link WebhookError}.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * Request headers as the platform (`Headers.Headers`) or Node
 * (`IncomingHttpHeaders`) gives them: lower-case names; a header sent more than
 * once may arrive as an array, which every scheme rejects.
 *
 * @since 0.1.0
 * @category models
 */
export type HeadersInput = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/**
 * One secret, or several during a rotation (any of them may match).
 *
 * @since 0.1.0
 * @category models
 */
export type Secrets = Redacted.Redacted<string> | ReadonlyArray<Redacted.Redacted<string>>

/**
 * What a verifier reads: the headers, the raw body exactly as received, and
 * (for Twilio, which signs the URL) the full public URL of the request.
 *
 * @since 0.1.0
 * @category models
 */
export interface WebhookRequest {
  readonly headers: HeadersInput
  readonly body: Uint8Array
  readonly url?: string | undefined
}

/**
 * A verified delivery: which scheme accepted it, its delivery id when the
 * scheme has one in a header (for the {@link ReplayGuard}), and its signed
 * timestamp when the scheme signs one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Verified {
  readonly scheme: string
  readonly id: string | undefined
  /** Unix seconds. */
  readonly timestamp: number | undefined
}

/**
 * Why a delivery was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export type Reason =
  | "MissingHeader"
  | "MalformedHeader"
  | "NoMatchingSignature"
  | "TimestampTooOld"
  | "TimestampTooNew"
  | "Replayed"
  | "BodyTooLarge"
  | "DecodeError"

const explain: Record<Reason, string> = {
  MissingHeader: "a required header is missing",
  MalformedHeader: "a header does not have the expected format",
  NoMatchingSignature:
    "no signature matches any configured secret; check the secret and that the body is the raw bytes",
  TimestampTooOld: "the signed timestamp is older than the tolerance; check the server clock or it is a replay",
  TimestampTooNew: "the signed timestamp is further in the future than the tolerance; check the server clock",
  Replayed: "this delivery id was already processed",
  BodyTooLarge: "the body is larger than the configured limit",
  DecodeError: "the body is not a valid event"
}

/**
 * A webhook delivery was refused. It names the scheme, the reason and the
 * header involved, never a secret, an expected signature or a received one.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookError extends Schema.TaggedError<WebhookError>()("WebhookError", {
  reason: Schema.Literal(
    "MissingHeader",
    "MalformedHeader",
    "NoMatchingSignature",
    "TimestampTooOld",
    "TimestampTooNew",
    "Replayed",
    "BodyTooLarge",
    "DecodeError"
  ),
  scheme: Schema.String,
  header: Schema.optional(Schema.String),
  /** What was expected (a format, a limit); never a value from the request or the configuration. */
  detail: Schema.optional(Schema.String)
}) {
  override get message() {
    const header = this.header === undefined ? "" : ` (${this.header})`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `${this.scheme} webhook refused, ${this.reason}${header}: ${explain[this.reason]}${detail}`
  }
}

/**
 * A verifier or sender was configured with a secret or option it cannot use
 * (say, a `whsec_` secret that is not base64). Raised when it is made, never per request.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookConfigError extends Schema.TaggedError<WebhookConfigError>()("WebhookConfigError", {
  scheme: Schema.String,
  /** What is wrong, without the secret itself. */
  detail: Schema.String
}) {
  override get message() {
    return `${this.scheme} webhook configuration is invalid: ${this.detail}`
  }
}

/**
 * Verifies deliveries of one scheme with its configured secrets. `verifyAt` is
 * the synchronous core (for hot paths and benchmarks); `verify` reads the time
 * from `Clock`, so `TestClock` drives tolerance checks.
 *
 * @since 0.1.0
 * @category models
 */
export interface Verifier {
  readonly scheme: string
  /** How long a delivery id is remembered by the receiver's replay guard, in seconds. */
  readonly replayWindow: number
  readonly verifyAt: (request: WebhookRequest, nowMillis: number) => Verified | WebhookError
  readonly verify: (request: WebhookRequest) => Effect.Effect<Verified, WebhookError>
}

/**
 * Makes a {@link Verifier} from a synchronous core. Use it for a scheme of your own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  scheme: string,
  replayWindow: number,
  verifyAt: (request: WebhookRequest, nowMillis: number) => Verified | WebhookError
): Verifier => ({
  scheme,
  replayWindow,
  verifyAt,
  // One step instead of reading `Clock.currentTimeMillis` (an effect of its own) and flat-mapping it:
  // `clockWith` still sees the fiber's Clock, so `TestClock` drives the tolerance checks.
  verify: (request) =>
    Effect.clockWith((clock) => {
      const result = verifyAt(request, clock.unsafeCurrentTimeMillis())
      return result instanceof WebhookError ? Effect.fail(result) : Effect.succeed(result)
    })
})

/**
 * The default timestamp tolerance of every timestamped scheme: 300 seconds in both directions.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTolerance = 300

/**
 * How long ids of schemes without a signed timestamp (GitHub, Shopify, Twilio) are remembered: 24 hours.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultReplayWindow = 24 * 60 * 60

/**
 * @internal
 * @category utils
 */
export const windowFor = (tolerance: number): number => tolerance > 0 ? 2 * tolerance : defaultReplayWindow
