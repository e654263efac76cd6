import { QuotaStore, RateLimit } from "@apikit/rate-limit"
import * as StoreContracts from "@apikit/testing/StoreContracts"
import { describe } from "@effect/vitest"

describe("RateLimiterStore contract (@apikit/testing/StoreContracts): memory (RateLimit.layerMemory)", () =>
  StoreContracts.rateLimiterStore(() => RateLimit.layerMemory))

describe("QuotaStore contract (@apikit/testing/StoreContracts): memory", () =>
  StoreContracts.quotaStore(() => QuotaStore.QuotaStore.layerMemory))
