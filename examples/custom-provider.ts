/**
 * custom-provider: integrate a provider apikit has no preset for.
 *
 * Calls: an API key in the provider's header, through `Auth.apiKey` (the key is
 * Redacted from Config to the wire). Webhooks: the provider signs
 * `{timestamp}.{body}` with HMAC-SHA256, hex-encoded after `sha256=` in
 * `X-Acme-Signature`, with `X-Acme-Timestamp` and a delivery id in
 * `X-Acme-Delivery`. `GenericHmac.verifier` describes that scheme in a few
 * options, and `Receiver.handle` verifies, decodes, deduplicates and dispatches
 * deliveries in any server (here called directly with three deliveries: a
 * good one, the same one again, and a tampered one).
 *
 * Run it: `pnpm example custom-provider`.
 */
import { Auth } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Sandbox } from "@apikit/testing"
import { GenericHmac, Receiver, ReplayGuard } from "@apikit/webhooks"
import { Clock, Config, Console, Effect, Layer, Redacted, Schema } from "effect"
import { createHmac } from "node:crypto"

const Invoice = Schema.Struct({
  type: Schema.Literal("invoice.paid"),
  data: Schema.Struct({ id: Schema.String, amount: Schema.Number })
})

/** What the provider does on its side, for the demonstration. */
const acmeSigns = (secret: string, id: string, timestamp: number, body: string) => ({
  "x-acme-delivery": id,
  "x-acme-timestamp": String(timestamp),
  "x-acme-signature": `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`
})

export const program = Effect.gen(function*() {
  const lines: Array<string> = []

  // Calls, with the provider's API key.
  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: `${sandbox.baseUrl}/v1`,
    name: "acme",
    auth: Auth.apiKey({
      header: "X-API-Key",
      value: yield* Config.redacted("ACME_API_KEY").pipe(
        Config.withDefault(Redacted.make(Sandbox.defaultClient.apiKey))
      )
    })
  })
  const created = yield* api.post("/projects", {
    body: { name: "Apollo" },
    success: Schema.Struct({ id: Schema.String }),
    idempotencyKey: true
  })
  lines.push(`API key call: created ${created.id}`)

  // Webhooks, in the provider's own scheme.
  const secret = yield* Config.redacted("ACME_WEBHOOK_SECRET").pipe(
    Config.withDefault(Redacted.make("acme-signing-secret"))
  )
  const verifier = yield* GenericHmac.verifier({
    scheme: "acme",
    secrets: secret,
    algorithm: "sha256",
    encoding: "hex",
    prefix: "sha256=",
    header: "X-Acme-Signature",
    timestampHeader: "X-Acme-Timestamp",
    idHeader: "X-Acme-Delivery",
    template: "{timestamp}.{body}"
  })
  const receiver = {
    verifier,
    routes: [
      Receiver.on(
        "invoice.paid",
        Invoice,
        (event) => Effect.sync(() => lines.push(`handled invoice.paid ${event.data.id} (${event.data.amount})`))
      )
    ]
  }
  const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const body = JSON.stringify({ type: "invoice.paid", data: { id: "inv_1", amount: 4200 } })
  const headers = acmeSigns(Redacted.value(secret), "dlv_1", now, body)
  const deliver = (label: string, request: { headers: Record<string, string>; body: string }) =>
    Effect.map(
      Receiver.handle(receiver, {
        ...request,
        body: new TextEncoder().encode(request.body),
        url: "http://localhost/acme"
      }),
      (answer) => lines.push(`${label}: ${answer.status}`)
    )
  yield* deliver("signed delivery", { headers, body })
  yield* deliver("same delivery again (deduplicated)", { headers, body })
  yield* deliver("tampered amount", { headers, body: body.replace("4200", "1") })

  yield* Console.log("apikit custom-provider")
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

export const main = program.pipe(
  Effect.provide(Layer.mergeAll(Sandbox.layer(), ReplayGuard.layerMemory(), UndiciHttpClient.layer))
)
