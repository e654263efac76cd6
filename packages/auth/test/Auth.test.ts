import { Auth } from "@apikit/auth"
import { ApiClient } from "@apikit/http"
import { Capture, MockHttp } from "@apikit/testing"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Encoding, Layer, Logger, LogLevel, Redacted } from "effect"

const sentinel = "SENTINEL-static-secret"

const env = (routes: ReadonlyArray<MockHttp.Route>) =>
  Effect.provide(Layer.mergeAll(MockHttp.layer(routes), Capture.layer))

const echo = [
  MockHttp.get("/v1/*", MockHttp.json(200, { ok: true })),
  MockHttp.get("/v1/denied", MockHttp.json(401, { message: `bad key ${sentinel}` }))
]

const withConfig = (map: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(map))))

const noLeak = Effect.gen(function*() {
  const capture = yield* Capture.Capture
  expect(capture.dump()).not.toContain(sentinel)
  expect(capture.dump()).not.toContain(Encoding.encodeBase64(`user:${sentinel}`))
})

describe("static credentials", () => {
  it.effect("API key in a header", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.test/v1",
        auth: Auth.apiKey({ header: "X-API-Key", value: Redacted.make(sentinel) })
      })
      yield* api.get("/things").pipe(Logger.withMinimumLogLevel(LogLevel.All))
      const [sent] = yield* MockHttp.requests
      expect(sent!.headers["x-api-key"]).toBe(sentinel)
      yield* noLeak
    }).pipe(env(echo)))

  it.effect("API key in the query, masked in errors and logs", () =>
    Effect.gen(function*() {
      const api = yield* ApiClient.make({
        baseUrl: "https://api.test/v1",
        auth: Auth.apiKey({ query: "api_key", value: Redacted.make(sentinel) })
      })
      yield* api.get("/things", { query: { page: 2 } })
      const [sent] = yield* MockHttp.requests
      expect(sent!.url.searchParams.get("api_key")).toBe(sentinel)
      expect(sent!.url.searchParams.get("page")).toBe("2")
      const e = yield* Effect.flip(api.get("/denied"))
      expect(e._tag).toBe("Unauthorized")
      expect(e.message).not.toContain(sentinel)
      expect(JSON.stringify(e)).not.toContain(sentinel)
      yield* noLeak
    }).pipe(env([
      MockHttp.get("/v1/denied", MockHttp.json(401, { message: "bad key" })),
      MockHttp.get("/v1/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("Bearer and Basic (UTF-8, RFC 7617); a static credential is not replayed on 401", () =>
    Effect.gen(function*() {
      const bearer = yield* ApiClient.make({
        baseUrl: "https://api.test/v1",
        auth: Auth.bearer(Redacted.make(sentinel))
      })
      const basic = yield* ApiClient.make({
        baseUrl: "https://api.test/v1",
        auth: Auth.basic({ username: "user", password: Redacted.make(`${sentinel}é`) })
      })
      yield* bearer.get("/a")
      yield* basic.get("/b")
      const e = yield* Effect.flip(bearer.get("/denied"))
      expect(e._tag).toBe("Unauthorized")
      const sent = yield* MockHttp.requests
      expect(sent[0]!.headers["authorization"]).toBe(`Bearer ${sentinel}`)
      expect(sent[1]!.headers["authorization"]).toBe(`Basic ${Encoding.encodeBase64(`user:${sentinel}é`)}`)
      expect(sent).toHaveLength(3)
      yield* noLeak
    }).pipe(env([
      MockHttp.get("/v1/denied", MockHttp.json(401, { message: "no" })),
      MockHttp.get("/v1/*", MockHttp.json(200, { ok: true }))
    ])))

  it.effect("Config variants read Redacted secrets from the environment", () =>
    Effect.gen(function*() {
      const key = yield* Auth.apiKeyConfig({ header: "X-API-Key", variable: "ACME_KEY" })
      const basic = yield* Auth.basicConfig({ username: "ACME_USER", password: "ACME_PASSWORD" })
      const bearer = yield* Auth.bearerConfig("ACME_TOKEN")
      for (const auth of [key, basic, bearer]) {
        const api = yield* ApiClient.make({ baseUrl: "https://api.test/v1", auth })
        yield* api.get("/x")
      }
      const sent = yield* MockHttp.requests
      expect(sent.map((r) => r.headers["x-api-key"] ?? r.headers["authorization"])).toEqual([
        sentinel,
        `Basic ${Encoding.encodeBase64(`user:${sentinel}`)}`,
        `Bearer ${sentinel}`
      ])
    }).pipe(
      withConfig({ ACME_KEY: sentinel, ACME_USER: "user", ACME_PASSWORD: sentinel, ACME_TOKEN: sentinel }),
      env(echo)
    ))

  it.effect("a missing or empty variable is a ConfigError naming it, never showing a value", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Auth.bearerConfig("ACME_TOKEN"))
      expect(String(missing)).toContain("Expected ACME_TOKEN to exist")
      const empty = yield* Effect.flip(Auth.bearerConfig("ACME_EMPTY"))
      expect(String(empty)).toContain("ACME_EMPTY")
      expect(String(empty)).toBe("(Invalid data at ACME_EMPTY: \"ACME_EMPTY is empty; set it to the secret value\")")
      const blank = yield* Effect.flip(Auth.apiKeyConfig({ query: "key", variable: "ACME_BLANK" }))
      expect(String(blank)).toContain("ACME_BLANK")
      expect(String(blank)).not.toContain("   ")
    }).pipe(withConfig({ ACME_EMPTY: "", ACME_BLANK: "   " })))
})
