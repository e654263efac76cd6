import { CircuitBreaker, CircuitBreakerStore } from "@apikit/circuit-breaker"
import * as PolicyContracts from "@apikit/testing/PolicyContracts"
import { describe } from "@effect/vitest"

describe("policy contract (@apikit/testing/PolicyContracts): CircuitBreaker.make, consecutive(1)", () =>
  PolicyContracts.policy(
    () => CircuitBreaker.make({ trip: CircuitBreaker.consecutive(1) }),
    () => CircuitBreakerStore.layerMemory
  ))
