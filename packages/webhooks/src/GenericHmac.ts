/**
 * A configurable HMAC scheme for providers without a module of their own: the
 * signature header, sha1/sha256/sha512, hex or base64, an optional prefix
 * (`sha256=`), the signed-content template (`{body}`, `{timestamp}.{body}`,
 * `{id}.{timestamp}.{body}`, ...) and optional timestamp and id headers.
 *
 * @since 0.1.0
 * @example
 * import { GenericHmac } from "@apikit/webhooks"
 * import { Redacted } from "effect"
 *
 * // Signature: `X-Signature: sha256=<hex of HMAC(secret, "<ts>.<body>")>`, timestamp in `X-Timestamp`.
 * const verifier = GenericHmac.verifier({
 *   secrets: Redacted.make("s3cr3t"),
 *   header: "x-signature",
 *   algorithm: "sha256",
 *   encoding: "hex",
 *   prefix: "sha256=",
 *   template: "{timestamp}.{body}",
 *   timestampHeader: "x-timestamp"
 * })
 */
import * as Either from "effect/Either"
import type { Algorithm } from "./internal/core.js"
import * as HmacScheme from "./internal/hmacScheme.js"
import * as Webhook from "./Webhook.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly secrets: Webhook.Secrets
  /** The header carrying the signature (case-insensitive). */
  readonly header: string
  readonly algorithm: Algorithm
  readonly encoding: "hex" | "base64"
  /** A literal prefix before the encoded signature, e.g. `sha256=`. */
  readonly prefix?: string
  /** The signed content; `{id}`, `{timestamp}` and `{body}` are replaced. Default `{body}`. */
  readonly template?: string
  readonly timestampHeader?: string
  readonly idHeader?: string
  /** Seconds a timestamp may differ from now in either direction; 0 disables the check. Default 300. */
  readonly tolerance?: number
  /** A name for errors and logs. Default `generic-hmac`. */
  readonly scheme?: string
}

/**
 * Makes a verifier for the configured scheme. The template must contain
 * `{body}` exactly once, and `{timestamp}` / `{id}` only when their headers are set.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifier = (options: Options): Either.Either<Webhook.Verifier, Webhook.WebhookConfigError> => {
  const scheme = options.scheme ?? "generic-hmac"
  const template = options.template ?? "{body}"
  const [before, after, ...extra] = template.split("{body}")
  const invalid = (detail: string) => Either.left(new Webhook.WebhookConfigError({ scheme, detail }))
  if (before === undefined || after === undefined || extra.length > 0) {
    return invalid("the template must contain {body} exactly once")
  }
  if (template.includes("{timestamp}") && options.timestampHeader === undefined) {
    return invalid("the template uses {timestamp} but no timestampHeader is set")
  }
  if (template.includes("{id}") && options.idHeader === undefined) {
    return invalid("the template uses {id} but no idHeader is set")
  }
  return Either.right(HmacScheme.verifier({ ...options, scheme, template }))
}
