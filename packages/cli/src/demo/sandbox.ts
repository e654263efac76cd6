/**
 * The body of `apikit sandbox`, loaded only when the command runs.
 *
 * @internal
 */
import * as Sandbox from "@apikit/testing/Sandbox"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ExitCode } from "../WebhooksCommand.js"

/** The parsed flags. @internal */
export interface Args {
  readonly port: number
  readonly faults: string
  readonly seed: Option.Option<number>
}

const usage = (message: string) => Effect.zipRight(Console.error(message), Effect.fail(new ExitCode({ code: 2 })))

/** What to print once the server listens; the credentials are public test fixtures. */
const banner = (sandbox: Sandbox.Sandbox["Type"], faults: string) => {
  const url = sandbox.baseUrl
  const c = Sandbox.defaultClient
  return [
    `apikit sandbox listening on ${url}`,
    "",
    `  API             ${url}/v1  (projects, webhook-endpoints)`,
    `  token endpoint  ${url}/oauth/token  (client credentials)`,
    `  client id       ${c.clientId}`,
    `  client secret   ${c.clientSecret}  (a public test fixture)`,
    `  API key         ${c.apiKey}  (X-API-Key header)`,
    `  stats           ${url}/_stats`,
    `  faults          ${faults}  (change them: curl -X PUT --data '5xx=0.1' ${url}/_faults)`,
    "",
    "Try:",
    `  curl -s -u ${c.clientId}:${c.clientSecret} -d grant_type=client_credentials ${url}/oauth/token`,
    `  curl -s -H 'X-API-Key: ${c.apiKey}' -H 'Content-Type: application/json' -d '{"name":"Apollo"}' ${url}/v1/projects`,
    `  curl -s -H 'X-API-Key: ${c.apiKey}' ${url}/v1/projects`,
    "",
    "Press Ctrl-C to stop."
  ].join("\n")
}

/** Serves until interrupted; fails with ExitCode 1 (cannot listen) or 2 (bad flags). @internal */
export const run = (args: Args): Effect.Effect<never, ExitCode> =>
  Effect.gen(function*() {
    const faults = yield* Effect.catchTag(Sandbox.parseFaults(args.faults), "InvalidFaults", (e) =>
      usage(`--faults: ${e.message}`))
    return yield* Sandbox.serve(
      { port: args.port, faults, ...(Option.isSome(args.seed) ? { seed: args.seed.value } : {}) },
      (sandbox) =>
        Console.log(banner(sandbox, args.faults))
    ).pipe(
      Effect.catchTags({
        InvalidFaults: (e) =>
          usage(`--faults: ${e.message}`),
        InvalidOptions: (e) => usage(e.message),
        ServeError: (e) =>
          Effect.zipRight(
            Console.error(`apikit sandbox cannot listen on 127.0.0.1:${args.port}: ${e.message}`),
            Effect.fail(new ExitCode({ code: 1 }))
          )
      })
    )
  })
