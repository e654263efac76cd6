import { RateLimit } from "@apikit/rate-limit"
import * as PolicyContracts from "@apikit/testing/PolicyContracts"
import { describe } from "@effect/vitest"

describe("policy contract (@apikit/testing/PolicyContracts): RateLimit.make, adaptive, one permit per 10 s", () =>
  PolicyContracts.policy(
    () => RateLimit.make({ limit: 1, window: "10 seconds", adaptive: true }),
    () => RateLimit.layerMemory
  ))
