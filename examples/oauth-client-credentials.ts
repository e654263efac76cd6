/**
 * oauth-client-credentials: call a protected API with OAuth 2.0 client
 * credentials, against any real OAuth 2.0 server.
 *
 * It makes CALLS concurrent GET requests to API_URL through an ApiClient whose
 * auth slot fetches (once, for all of them), caches and renews the token; it
 * prints one line per call and a summary, and exits 0 only if every call
 * succeeded.
 *
 *   OAUTH_TOKEN_URL       the token endpoint
 *   OAUTH_CLIENT_ID
 *   OAUTH_CLIENT_SECRET   for basic / post, or
 *   OAUTH_PRIVATE_KEY_JWK a JSON private JWK, for private_key_jwt
 *   OAUTH_CLIENT_AUTH     basic (default) | post | private_key_jwt
 *   OAUTH_SCOPE           optional, space-separated
 *   API_URL               a protected resource
 *   CALLS                 default 20
 *
 * Run it: `OAUTH_TOKEN_URL=... OAUTH_CLIENT_ID=... OAUTH_CLIENT_SECRET=... API_URL=... pnpm example oauth-client-credentials`
 */
import { Jwt, OAuth2, TokenStore } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Config, Console, Effect, Layer, Option, Redacted, Schema } from "effect"

/** Some variables are missing or unusable; `message` names them (never their values). */
export class BadEnvironment extends Schema.TaggedError<BadEnvironment>()("BadEnvironment", {
  problems: Schema.Array(Schema.String)
}) {
  override get message() {
    return `oauth-client-credentials cannot start:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`
  }
}

/** Not every call succeeded. */
export class CallsFailed extends Schema.TaggedError<CallsFailed>()("CallsFailed", {
  failed: Schema.Number,
  total: Schema.Number
}) {
  override get message() {
    return `${this.failed} of ${this.total} calls failed`
  }
}

const methods = {
  basic: "client_secret_basic",
  post: "client_secret_post",
  private_key_jwt: "private_key_jwt"
} as const

/** Reads every variable first, so one run reports everything that is missing. */
const settings = Effect.gen(function*() {
  const read = <A>(config: Config.Config<A>) => Effect.orElseSucceed(Config.option(config), () => Option.none<A>())
  const tokenUrl = yield* read(Config.nonEmptyString("OAUTH_TOKEN_URL"))
  const clientId = yield* read(Config.nonEmptyString("OAUTH_CLIENT_ID"))
  const secret = yield* read(Config.redacted("OAUTH_CLIENT_SECRET"))
  const jwk = yield* read(Config.redacted("OAUTH_PRIVATE_KEY_JWK"))
  const auth = yield* read(Config.string("OAUTH_CLIENT_AUTH"))
  const scope = yield* read(Config.string("OAUTH_SCOPE"))
  const apiUrl = yield* read(Config.nonEmptyString("API_URL"))
  const calls = yield* Config.integer("CALLS").pipe(Config.withDefault(20), Effect.either)

  const problems: Array<string> = []
  if (Option.isNone(tokenUrl)) problems.push("OAUTH_TOKEN_URL is not set (the token endpoint URL)")
  if (Option.isNone(clientId)) problems.push("OAUTH_CLIENT_ID is not set")
  if (Option.isNone(apiUrl)) problems.push("API_URL is not set (a protected resource to GET)")
  const method = methods[Option.getOrElse(auth, () => "basic") as keyof typeof methods]
  if (method === undefined) problems.push("OAUTH_CLIENT_AUTH must be basic, post or private_key_jwt")
  const present = (o: Option.Option<Redacted.Redacted>) => Option.isSome(o) && Redacted.value(o.value).trim() !== ""
  if (method === "private_key_jwt" && !present(jwk)) {
    problems.push("OAUTH_PRIVATE_KEY_JWK is not set (a JSON private JWK, for OAUTH_CLIENT_AUTH=private_key_jwt)")
  }
  if (method !== "private_key_jwt" && method !== undefined && !present(secret)) {
    problems.push(
      "OAUTH_CLIENT_SECRET is not set (or use OAUTH_PRIVATE_KEY_JWK with OAUTH_CLIENT_AUTH=private_key_jwt)"
    )
  }
  if (calls._tag === "Left" || calls.right < 1 || calls.right > 10_000) {
    problems.push("CALLS must be a whole number from 1 to 10000")
  }
  let api: URL | undefined
  if (Option.isSome(apiUrl)) {
    try {
      api = new URL(apiUrl.value)
    } catch {
      problems.push("API_URL is not an absolute URL")
    }
  }
  if (problems.length > 0) return yield* new BadEnvironment({ problems })
  return {
    tokenUrl: Option.getOrThrow(tokenUrl),
    clientId: Option.getOrThrow(clientId),
    method: method!,
    secret: Option.getOrUndefined(secret),
    jwk: Option.getOrUndefined(jwk),
    scope: Option.getOrUndefined(Option.filter(scope, (s) => s.trim() !== "")),
    api: api!,
    calls: calls._tag === "Right" ? calls.right : 20
  }
})

/** One call's outcome, as printed. */
export interface Report {
  readonly lines: ReadonlyArray<string>
  readonly succeeded: number
  readonly total: number
}

/** Reads the environment, makes the calls, prints them; fails with BadEnvironment before any call. */
export const program = Effect.gen(function*() {
  const s = yield* settings
  const privateKey = s.method === "private_key_jwt"
    ? yield* Jwt.signingKeyFromJwk("OAUTH_PRIVATE_KEY_JWK", s.jwk!).pipe(
      Effect.mapError((e) => new BadEnvironment({ problems: [`OAUTH_PRIVATE_KEY_JWK: ${e.description}`] }))
    )
    : undefined
  const auth = yield* OAuth2.clientCredentials({
    tokenUrl: s.tokenUrl,
    clientId: s.clientId,
    clientAuth: s.method,
    clientSecret: s.secret,
    privateKey,
    scope: s.scope
  }).pipe(Effect.mapError((e) => new BadEnvironment({ problems: [e.description ?? e.message] })))
  // The base URL is the API's origin; the full API_URL (path and query) is the call's path.
  const api = yield* ApiClient.make({
    baseUrl: s.api.origin,
    name: "oauth-example",
    auth,
    timeout: { attempt: "10 seconds", total: "30 seconds" }
  }).pipe(Effect.mapError((e) => new BadEnvironment({ problems: [`API_URL: ${e.detail}`] })))

  yield* Console.log(`Calling ${s.api.origin}${s.api.pathname} ${s.calls} times with ${s.method} client auth`)
  const width = String(s.calls).length
  const outcomes = yield* Effect.forEach(
    Array.from({ length: s.calls }, (_, i) => i + 1),
    (n) =>
      api.exchange("GET", s.api.toString()).pipe(
        Effect.map((r) => ({ ok: true, line: `call ${String(n).padStart(width)}: ok ${r.status}` })),
        Effect.catchAll((e) =>
          Effect.succeed({ ok: false, line: `call ${String(n).padStart(width)}: ${e._tag}: ${e.message}` })
        ),
        Effect.tap(({ line }) => Console.log(line))
      ),
    { concurrency: "unbounded" }
  )
  const succeeded = outcomes.filter((o) => o.ok).length
  const summary = `${succeeded} of ${s.calls} calls succeeded`
  yield* Console.log(summary)
  return { lines: [...outcomes.map((o) => o.line), summary], succeeded, total: s.calls } satisfies Report
})

/**
 * The program with production layers; fails unless every call succeeded, so
 * `pnpm example` (NodeRuntime.runMain) prints the error and exits non-zero.
 */
export const main = program.pipe(
  Effect.filterOrFail(
    (r) => r.succeeded === r.total,
    (r) => new CallsFailed({ failed: r.total - r.succeeded, total: r.total })
  ),
  Effect.provide(Layer.merge(NodeHttpClient.layerUndici, TokenStore.layerMemory))
)
