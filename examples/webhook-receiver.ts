/**
 * webhook-receiver: verify and handle a provider's webhooks.
 *
 * A local server (127.0.0.1, a free port) mounts @apikit/webhooks' Receiver:
 * it reads the raw body, verifies the Standard Webhooks signature, drops
 * replays, decodes each event with its Schema and dispatches by type. The app
 * registers the endpoint with the Sandbox, creates, renames and deletes a
 * project, and handles the three events the Sandbox sends. A forged delivery
 * (right shape, wrong signature) is refused with 401 and never reaches a handler.
 *
 * Run it: `pnpm example webhook-receiver`.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { Sandbox } from "@apikit/testing"
import { Receiver, ReplayGuard, StandardWebhooks } from "@apikit/webhooks"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { Clock, Config, Console, Effect, Layer, Queue, Redacted, Schema } from "effect"
import { createServer } from "node:http"

const ProjectData = Schema.Struct({ id: Schema.String, name: Schema.String })
const Created = Schema.Struct({ type: Schema.Literal("project.created"), data: ProjectData })
const Updated = Schema.Struct({ type: Schema.Literal("project.updated"), data: ProjectData })
const Deleted = Schema.Struct({ type: Schema.Literal("project.deleted"), data: Schema.Struct({ id: Schema.String }) })

export const program = Effect.gen(function*() {
  // In production the secret comes from the provider, through Config; here a fixed test secret.
  const secret = yield* Config.redacted("WEBHOOK_SECRET").pipe(
    Config.withDefault(Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
  )
  const handled = yield* Queue.unbounded<string>()
  const receive = Receiver.make({
    verifier: yield* StandardWebhooks.verifier({ secrets: secret }),
    routes: [
      Receiver.on("project.created", Created, (e) => Queue.offer(handled, `created ${e.data.id} ${e.data.name}`)),
      Receiver.on("project.updated", Updated, (e) => Queue.offer(handled, `renamed ${e.data.id} to ${e.data.name}`)),
      Receiver.on("project.deleted", Deleted, (e) => Queue.offer(handled, `deleted ${e.data.id}`))
    ]
  })
  const server = yield* NodeHttpServer.make(() => createServer(), { port: 0, host: "127.0.0.1" })
  yield* server.serve(HttpRouter.empty.pipe(HttpRouter.post("/webhooks", receive)))
  const url = `http://127.0.0.1:${server.address._tag === "TcpAddress" ? server.address.port : 0}/webhooks`

  const sandbox = yield* Sandbox.Sandbox
  const api = yield* ApiClient.make({
    baseUrl: `${sandbox.baseUrl}/v1`,
    headers: { "x-api-key": Redacted.make(Sandbox.defaultClient.apiKey) }
  })
  yield* api.post("/webhook-endpoints", { body: { url, secret: Redacted.value(secret) } })

  // Deliveries are asynchronous: wait for each event before the next change, so they arrive in order.
  const next = Queue.take(handled).pipe(Effect.timeout("10 seconds"))
  const lines: Array<string> = []
  const project = yield* api.post("/projects", {
    body: { name: "Apollo" },
    success: ProjectData,
    idempotencyKey: true
  })
  lines.push(yield* next)
  yield* api.patch("/projects/:id", { params: { id: project.id }, body: { name: "Apollo 11" } })
  lines.push(yield* next)
  yield* api.delete("/projects/:id", { params: { id: project.id } })
  lines.push(yield* next)

  // A forgery: a well-formed delivery, signed with a key that is not ours.
  const body = JSON.stringify({ type: "project.deleted", timestamp: "2026-01-01T00:00:00Z", data: { id: "prj_1" } })
  const forgedHeaders = yield* StandardWebhooks.sign(Redacted.make("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), {
    id: "msg_forged",
    timestamp: Math.floor((yield* Clock.currentTimeMillis) / 1000),
    body
  })
  const forged = yield* HttpClient.execute(
    HttpClientRequest.post(url).pipe(HttpClientRequest.setHeaders(forgedHeaders), HttpClientRequest.bodyText(body))
  )

  lines.push(`forged delivery: ${forged.status}`)
  yield* Console.log(`apikit webhook-receiver on ${url}`)
  for (const line of lines) yield* Console.log(`  ${line}`)
  return lines
})

export const main = program.pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(Sandbox.layer(), ReplayGuard.layerMemory(), UndiciHttpClient.layer))
)
