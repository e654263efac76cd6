/**
 * A real HTTP server on 127.0.0.1 for a test: a Node request handler (an
 * express or fastify app's handler included) or a server you made listens on
 * a free port for the lifetime of the scope, and you get its base URL. Open
 * connections are closed on release, so a handler that hangs cannot keep the
 * test alive.
 *
 * @since 0.1.0
 * @example
 * import { LocalServer } from "@apikit/testing"
 * import { ApiClient } from "@apikit/http"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const baseUrl = yield* LocalServer.listen((_req, res) => {
 *     res.writeHead(200, { "content-type": "application/json" })
 *     res.end("{\"ok\":true}")
 *   })
 *   const api = yield* ApiClient.make({ baseUrl })
 *   return yield* api.get("/health")
 * }).pipe(Effect.scoped)
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Https from "node:https"

/**
 * Listens on 127.0.0.1 (a free port) until the scope closes, and yields the
 * base URL (`http://127.0.0.1:<port>`, or `https://` for an HTTPS server). A
 * handler gets a new `node:http` server; a server is used as it is.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (
  handlerOrServer: Http.RequestListener | Http.Server | Https.Server
): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Http.Server | Https.Server>((resume) => {
      const server = typeof handlerOrServer === "function" ? Http.createServer(handlerOrServer) : handlerOrServer
      const failed = (error: Error) => resume(Effect.die(error))
      server.once("error", failed)
      server.listen(0, "127.0.0.1", () => {
        server.off("error", failed)
        resume(Effect.succeed(server))
      })
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return `${server instanceof Https.Server ? "https" : "http"}://127.0.0.1:${port}`
  }))
