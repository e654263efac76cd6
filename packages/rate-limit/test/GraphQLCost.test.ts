/**
 * GraphQL cost reports (in the body, in points) reach the adaptive limiter:
 * a query is held back, in virtual time, until the budget can pay for it.
 */
import { ApiClient, GraphQL } from "@apikit/http"
import { RateLimit } from "@apikit/rate-limit"
import { MockGraphQL, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, Layer, Schema, TestClock } from "effect"

const Products = GraphQL.operation({
  document: `query Products($first: Int!) { products(first: $first) { nodes { id } } }`,
  variables: Schema.Struct({ first: Schema.Number }),
  data: Schema.Struct({ products: Schema.Struct({ nodes: Schema.Array(Schema.Struct({ id: Schema.String })) }) })
})

/** A Shopify-style bucket: 100 points, 10 restored per second, each query costs `first` points. */
const shopify = (start = 100) => {
  const times: Array<number> = []
  let available = start
  let last = 0
  const handler = (req: MockGraphQL.GraphQLRequest) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      available = Math.min(100, available + ((now - last) / 1000) * 10)
      last = now
      times.push(now)
      const cost = req.variables["first"] as number
      const throttleStatus = { maximumAvailable: 100, currentlyAvailable: available, restoreRate: 10 }
      if (cost > available) {
        return MockGraphQL.errors([{ message: "Throttled", extensions: { code: "THROTTLED" } }], {
          extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus } }
        })
      }
      available -= cost
      return MockGraphQL.data({ products: { nodes: [{ id: "1" }] } }, {
        extensions: {
          cost: {
            requestedQueryCost: cost,
            actualQueryCost: cost,
            throttleStatus: { ...throttleStatus, currentlyAvailable: available }
          }
        }
      })
    })
  return { times, handler }
}

describe("GraphQL cost reports and the adaptive limiter", () => {
  it.effect("a query whose requested cost exceeds what remains is held back until the budget restores", () => {
    const server = shopify()
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://shop.test",
        rateLimit: yield* RateLimit.make({ limit: 1000, window: "1 second", adaptive: true })
      })
      const shop = GraphQL.make(api)
      // 40 + 40 points: 20 remain, and the report says a 40-point query must wait (40 - 20) / 10 = 2 s.
      const fiber = yield* Effect.fork(
        Effect.forEach([1, 2, 3], () => shop.run(Products, { first: 40 }), { discard: true })
      )
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      // The third query was sent when the bucket could pay for it: never throttled.
      expect(server.times).toEqual([0, 0, 2000])
    }).pipe(Effect.provide(Layer.merge(
      MockHttp.layer([MockGraphQL.endpoint("/graphql", { Products: server.handler })]),
      RateLimit.layerMemory
    )))
  })

  it.effect("a THROTTLED response fails with RateLimited and holds every caller of the key until the reported reset", () => {
    const server = shopify(30)
    return Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://shop.test",
        rateLimit: yield* RateLimit.make({ limit: 1000, window: "1 second", adaptive: true })
      })
      const shop = GraphQL.make(api)
      // 50 requested, 30 available: throttled; (50 - 30) / 10 = 2 s until it can run.
      const error = yield* Effect.flip(shop.run(Products, { first: 50 }))
      expect(error._tag === "RateLimited" && [error.reason, error.status]).toEqual(["TooManyRequests", 200])
      expect(error._tag === "RateLimited" && error.retryAfter).toEqual(Duration.seconds(2))
      expect(error._tag === "RateLimited" && error.rateLimit).toMatchObject({ limit: 100, remaining: 30 })
      // Another query of the key is not sent into the throttle: the limiter holds every caller until
      // the reset the cost report gives (the bucket full again: (100 - 30) / 10 = 7 s), the later of
      // that and the Retry-After, as it does for any 429.
      const next = yield* Effect.fork(shop.run(Products, { first: 10 }))
      yield* TestClock.adjust("6999 millis")
      expect(server.times).toEqual([0])
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(next)
      expect(server.times).toEqual([0, 7000])
    }).pipe(Effect.provide(Layer.merge(
      MockHttp.layer([MockGraphQL.endpoint("/graphql", { Products: server.handler })]),
      RateLimit.layerMemory
    )))
  })
})
