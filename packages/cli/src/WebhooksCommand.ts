/**
 * `apikit webhooks verify` and `apikit webhooks sign`: check a delivery you
 * captured, or produce the headers a provider would send, for every scheme
 * @apikit/webhooks knows.
 *
 * @since 0.1.0
 */
import * as GitHub from "@apikit/webhooks/GitHub"
import * as Shopify from "@apikit/webhooks/Shopify"
import * as Slack from "@apikit/webhooks/Slack"
import * as StandardWebhooks from "@apikit/webhooks/StandardWebhooks"
import * as Stripe from "@apikit/webhooks/Stripe"
import * as Twilio from "@apikit/webhooks/Twilio"
import * as Webhook from "@apikit/webhooks/Webhook"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { Stdin } from "./Stdin.js"

/**
 * Ends the command with an exit code: 1 for an invalid signature, 2 for a usage error.
 * The message (if any) was already printed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExitCode extends Schema.TaggedError<ExitCode>()("ExitCode", { code: Schema.Number }) {}

const schemes = ["standard", "svix", "stripe", "github", "slack", "shopify", "twilio"] as const
type Scheme = typeof schemes[number]

const usage = (message: string) => Effect.zipRight(Console.error(message), Effect.fail(new ExitCode({ code: 2 })))

const scheme = Options.choice("scheme", schemes).pipe(Options.withDescription("the signature scheme"))
// Options.redacted does not survive atLeast/repeated in @effect/cli 0.77, so wrap after parsing.
const secrets = Options.text("secret").pipe(
  Options.atLeast(1),
  Options.map((values) => values.map((value) => Redacted.make(value))),
  Options.withDescription("a signing secret; repeat it to try several (rotation)")
)
const bodyFile = Options.file("body-file", { exists: "yes" }).pipe(
  Options.optional,
  Options.withDescription("read the body from this file, byte for byte (default: stdin)")
)
const url = Options.text("url").pipe(
  Options.optional,
  Options.withDescription("the full public URL the request was sent to (Twilio signs it)")
)

/** The body, exactly as stored: no newline added or trimmed. */
const readBody = (file: Option.Option<string>) =>
  Option.match(file, {
    onSome: (path) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFile(path)).pipe(
        Effect.catchAll((e) => usage(`cannot read --body-file: ${e.message}`))
      ),
    onNone: () =>
      Effect.flatMap(Stdin, (stdin) => stdin.read).pipe(
        Effect.flatMap((bytes) =>
          bytes === undefined ? usage("no body: pass --body-file or pipe the body on stdin") : Effect.succeed(bytes)
        )
      )
  })

const headerLine = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/

/** `Name: value` lines into headers; a name given twice becomes a list (which verifiers refuse). */
const parseHeaders = (lines: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const headers: Record<string, string | Array<string>> = {}
    for (const line of lines) {
      const m = headerLine.exec(line)
      if (m === null) return yield* usage(`--header must look like "Name: value", got ${JSON.stringify(line)}`)
      const name = m[1]!.toLowerCase()
      const previous = headers[name]
      headers[name] = previous === undefined ? m[2]! : [...(Array.isArray(previous) ? previous : [previous]), m[2]!]
    }
    return headers
  })

const configError = (e: Webhook.WebhookConfigError) => usage(e.message)

const verifierFor = (
  name: Scheme,
  keys: ReadonlyArray<Redacted.Redacted<string>>,
  tolerance: number | undefined,
  publicUrl: string | undefined
): Effect.Effect<Webhook.Verifier, ExitCode> => {
  const t = tolerance === undefined ? {} : { tolerance }
  switch (name) {
    case "standard":
    case "svix":
      return Effect.catchAll(StandardWebhooks.verifier({ secrets: keys, ...t }), configError)
    case "stripe":
      return Effect.succeed(Stripe.verifier({ secrets: keys, ...t }))
    case "github":
      return Effect.succeed(GitHub.verifier({ secrets: keys }))
    case "slack":
      return Effect.succeed(Slack.verifier({ secrets: keys, ...t }))
    case "shopify":
      return Effect.succeed(Shopify.verifier({ secrets: keys }))
    case "twilio":
      return publicUrl === undefined
        ? usage("--url is required for twilio: Twilio signs the full URL")
        : Effect.succeed(Twilio.verifier({ secrets: keys, url: publicUrl }))
  }
}

/**
 * `apikit webhooks verify`: prints `valid` (exit 0) or `invalid: <reason>` (exit 1).
 *
 * @since 0.1.0
 * @category commands
 */
export const verify = Command.make("verify", {
  scheme,
  secrets,
  headers: Options.text("header").pipe(
    Options.repeated,
    Options.withDescription("a received header as \"Name: value\"; repeat for each")
  ),
  bodyFile,
  url,
  now: Options.integer("now").pipe(
    Options.optional,
    Options.withDescription("check timestamps as if it were this Unix time (seconds)")
  ),
  tolerance: Options.integer("tolerance").pipe(
    Options.optional,
    Options.withDescription("seconds a timestamp may be off in either direction; 0 disables (default 300)")
  )
}, (args) =>
  Effect.gen(function*() {
    const tolerance = Option.getOrUndefined(args.tolerance)
    if (tolerance !== undefined && tolerance < 0) return yield* usage("--tolerance must be 0 or more seconds")
    const headers = yield* parseHeaders(args.headers)
    const verifier = yield* verifierFor(args.scheme, args.secrets, tolerance, Option.getOrUndefined(args.url))
    const body = yield* readBody(args.bodyFile)
    const now = Option.isSome(args.now) ? args.now.value * 1000 : yield* Clock.currentTimeMillis
    const result = verifier.verifyAt({ headers, body }, now)
    if (result instanceof Webhook.WebhookError) {
      const header = result.header === undefined ? "" : ` (${result.header})`
      yield* Console.log(`invalid: ${result.reason}${header}${result.detail === undefined ? "" : `: ${result.detail}`}`)
      return yield* Effect.fail(new ExitCode({ code: 1 }))
    }
    yield* Console.log("valid")
  })).pipe(
    Command.withDescription("Verify a webhook delivery: prints `valid` (exit 0) or `invalid: <reason>` (exit 1).")
  )

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
const randomId = Effect.map(
  Effect.all(Array.from({ length: 24 }, () => Random.nextIntBetween(0, alphabet.length))),
  (digits) => `msg_${digits.map((d) => alphabet[d]).join("")}`
)

/**
 * `apikit webhooks sign`: prints the headers to send with the body, one `Name: value` per line.
 *
 * @since 0.1.0
 * @category commands
 */
export const sign = Command.make("sign", {
  scheme,
  secrets,
  bodyFile,
  url,
  id: Options.text("id").pipe(Options.optional, Options.withDescription("the message id (default: random)")),
  timestamp: Options.integer("timestamp").pipe(
    Options.optional,
    Options.withDescription("the Unix time to sign (default: now)")
  )
}, (args) =>
  Effect.gen(function*() {
    const body = yield* readBody(args.bodyFile)
    const timestamp = Option.isSome(args.timestamp)
      ? args.timestamp.value
      : Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const keys = args.secrets
    let headers: Record<string, string>
    switch (args.scheme) {
      case "standard":
      case "svix": {
        const id = Option.isSome(args.id) ? args.id.value : yield* randomId
        const signed = StandardWebhooks.sign(keys, {
          id,
          timestamp,
          body,
          headerPrefix: args.scheme === "svix" ? "svix-" : "webhook-"
        })
        if (Either.isLeft(signed)) return yield* configError(signed.left)
        headers = signed.right
        break
      }
      case "stripe":
        headers = Stripe.sign(keys, { timestamp, body })
        break
      case "github":
        headers = GitHub.sign(keys, body)
        break
      case "slack":
        headers = Slack.sign(keys, { timestamp, body })
        break
      case "shopify":
        headers = Shopify.sign(keys, body)
        break
      case "twilio":
        if (Option.isNone(args.url)) return yield* usage("--url is required for twilio: Twilio signs the full URL")
        headers = Twilio.sign(keys, { url: args.url.value, body })
        break
    }
    yield* Console.log(Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join("\n"))
  })).pipe(Command.withDescription("Sign a body: prints the headers a provider would send with it."))

/**
 * `apikit webhooks`, with its `verify` and `sign` subcommands.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("webhooks").pipe(
  Command.withDescription(
    "Verify and sign webhooks (Standard Webhooks, Svix, Stripe, GitHub, Slack, Shopify, Twilio)."
  ),
  Command.withSubcommands([verify, sign])
)
