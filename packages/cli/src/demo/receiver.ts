/**
 * The demo's webhook receiver: @apikit/webhooks' Receiver on 127.0.0.1 (a free
 * port), verifying the sandbox's Standard Webhooks signatures and counting
 * what it accepted and refused.
 *
 * @internal
 */
import * as Receiver from "@apikit/webhooks/Receiver"
import * as ReplayGuard from "@apikit/webhooks/ReplayGuard"
import * as StandardWebhooks from "@apikit/webhooks/StandardWebhooks"
import type * as Webhook from "@apikit/webhooks/Webhook"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { createServer } from "node:http"

const ProjectCreated = Schema.Struct({
  type: Schema.Literal("project.created"),
  data: Schema.Struct({ id: Schema.String, name: Schema.String })
})

/** @internal */
export interface Receipts {
  /** Project ids whose `project.created` delivery verified. */
  readonly verified: Set<string>
  /** Deliveries answered 4xx: a bad signature, a stale timestamp, a malformed body. */
  rejected: number
  /** Deliveries of an id already processed (the sender retried an acknowledged one). */
  redelivered: number
}

/**
 * Serves the receiver until the scope closes and returns its URL and what it
 * received. The secret is the one the sandbox issued when the endpoint was registered.
 *
 * @internal
 */
export const start = (
  secret: Redacted.Redacted<string>
): Effect.Effect<
  { readonly url: string; readonly receipts: Receipts },
  ServeError | Webhook.WebhookConfigError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const receipts: Receipts = { verified: new Set(), rejected: 0, redelivered: 0 }
    const verifier = yield* StandardWebhooks.verifier({ secrets: secret })
    const receive = Receiver.make({
      verifier,
      routes: [
        Receiver.on("project.created", ProjectCreated, (event) =>
          Effect.sync(() => {
            if (receipts.verified.has(event.data.id)) receipts.redelivered++
            else receipts.verified.add(event.data.id)
          }))
      ]
    }).pipe(
      Effect.tap((response) =>
        Effect.sync(() => {
          if (response.status >= 400 && response.status < 500) receipts.rejected++
        })
      )
    )
    const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
    const app = HttpRouter.empty.pipe(HttpRouter.post("/webhooks", receive))
    yield* server.serve(app).pipe(Effect.provide(ReplayGuard.layerMemory()))
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return { url: `http://127.0.0.1:${port}/webhooks`, receipts }
  })
