/**
 * A check against an independent implementation of the document: Stoplight's Prism, the
 * spec-validating mock server (`prism mock --errors`, run in process from the packages the CLI is
 * made of), serves GitHub's published document on 127.0.0.1. A sample of operations goes through
 * the generated client and the whole ApiClient pipeline over a real socket: Prism validates each
 * request against the document (and with `errors` answers an invalid one with a 4xx instead of a
 * mock) and answers with a body its own generator makes from the document's schemas (seeded), which
 * the generated Schemas must decode.
 *
 * Each operation of the sample also gets one invalid request, which Prism must reject: Prism skips
 * the validation of a schema its Ajv cannot compile (GitHub's `issues/create` body has a `nullable`
 * without a `type`), so an accepted request alone would prove nothing.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { createLogger } from "@stoplight/prism-core"
import { getHttpOperationsFromSpec } from "@stoplight/prism-http"
import { createServer } from "@stoplight/prism-http-server"
import { Effect } from "effect"
import { createRequire } from "node:module"
import * as GitHub from "./generated/github-issues/index.js"

const github = createRequire(import.meta.url).resolve("@octokit/openapi/generated/api.github.com.json")

/** Prism in mock mode with `--errors`, on 127.0.0.1 and a port the system picks; closed with the scope. */
const prism = (document: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const operations = await getHttpOperationsFromSpec(document)
      const server = createServer(operations, {
        cors: false,
        components: { logger: createLogger("prism", { level: "silent" }) },
        config: {
          mock: { dynamic: true, seed: "apikit" },
          checkSecurity: true,
          validateRequest: true,
          validateResponse: true,
          errors: true,
          isProxy: false,
          upstreamProxy: undefined
        }
      })
      const url = await server.listen(0, "127.0.0.1")
      return { url, close: () => server.close() }
    }),
    (server) => Effect.promise(() => server.close())
  )

/** The status of a request the pipeline sent and the server refused (or "accepted"). */
const statusOf = <A, E>(effect: Effect.Effect<A, E>) =>
  effect.pipe(
    Effect.as("accepted" as const),
    Effect.catchAll((e) => Effect.succeed((e as { readonly status?: number }).status ?? String(e)))
  )

describe("Prism (spec-validating mock server) serving GitHub's published document", () => {
  it.scoped(
    "the generated client's requests pass Prism's validation and its answers decode",
    () =>
      Effect.gen(function*() {
        const server = yield* prism(github)
        const api = yield* ApiClient.make({ baseUrl: server.url })
        const client = GitHub.client(api)
        const repo = { owner: "octocat", repo: "hello-world" }

        // Path and query parameters (enum, integer), a list of a large recursive-ish Schema.
        const issues = yield* client.issues.listForRepo({
          path: repo,
          urlParams: { state: "open", sort: "updated", per_page: 5 }
        })
        expect(Array.isArray(issues)).toBe(true)
        const issue = yield* client.issues.get({ path: { ...repo, issue_number: 1347 } })
        expect(typeof issue.number).toBe("number")
        expect(issue.created_at).toBeInstanceOf(Date)

        // JSON bodies: required fields, an enum, a date-time encoded from a Date, a PUT answered with 204.
        const comment = yield* client.issues.createComment({
          path: { ...repo, issue_number: 1347 },
          payload: { body: "Me too" }
        })
        expect(typeof comment.id).toBe("number")
        const label = yield* client.issues.createLabel({
          path: repo,
          payload: { name: "bug", color: "f29513", description: "Something isn't working" }
        })
        expect(typeof label.name).toBe("string")
        const milestone = yield* client.issues.createMilestone({
          path: repo,
          payload: { title: "v1.0", state: "open", due_on: new Date("2030-01-01T00:00:00Z") }
        })
        expect(typeof milestone.number).toBe("number")
        yield* client.issues.lock({ path: { ...repo, issue_number: 1347 }, payload: { lock_reason: "resolved" } })

        // The same operations with a request the document forbids: Prism must refuse each one. Its answer
        // is then the document's own 422 (static: Prism's generated error bodies fail its own check of
        // GitHub's ValidationError, a `oneOf` with overlapping members, and `--errors` turns that into a 500).
        const invalid = { headers: { prefer: "dynamic=false" } }
        const refused = {
          listForRepo: yield* statusOf(
            api.get("/repos/octocat/hello-world/issues", { ...invalid, query: { state: "bogus" } })
          ),
          get: yield* statusOf(api.get("/repos/octocat/hello-world/issues/not-a-number", invalid)),
          createComment: yield* statusOf(
            api.post("/repos/octocat/hello-world/issues/1347/comments", { ...invalid, body: {} })
          ),
          createLabel: yield* statusOf(
            api.post("/repos/octocat/hello-world/labels", { ...invalid, body: { color: "f29513" } })
          ),
          createMilestone: yield* statusOf(
            api.post("/repos/octocat/hello-world/milestones", {
              ...invalid,
              body: { title: "v1", due_on: "next week" }
            })
          ),
          lock: yield* statusOf(
            api.put("/repos/octocat/hello-world/issues/1347/lock", { ...invalid, body: { lock_reason: "bored" } })
          )
        }
        expect(refused).toEqual({
          listForRepo: 422,
          get: 422,
          createComment: 422,
          createLabel: 422,
          createMilestone: 422,
          lock: 422
        })
      }).pipe(Effect.provide(UndiciHttpClient.layer)),
    120_000
  )
})
