import { Retry } from "@apikit/retry"
import * as PolicyContracts from "@apikit/testing/PolicyContracts"
import { describe } from "@effect/vitest"
import { Effect, Layer } from "effect"

describe("policy contract (@apikit/testing/PolicyContracts): Retry.transient", () =>
  PolicyContracts.policy(
    () => Effect.succeed(Retry.transient({ times: 5, base: "100 millis", cap: "5 seconds" })),
    () => Layer.empty
  ))
