import { Redaction } from "@apikit/http"
import { describe, expect, it } from "@effect/vitest"

describe("Redaction", () => {
  it("masks secret query values and drops user-info and fragments from URLs", () => {
    expect(Redaction.url(new URL("https://u:p@api.example.com/v1/x?api_key=abc&page=2&access_token=t#frag"))).toBe(
      "https://api.example.com/v1/x?api_key=<redacted>&page=2&access_token=<redacted>"
    )
    expect(Redaction.url(new URL("https://api.example.com/cb?code=xyz&state=s&sig=1"))).toBe(
      "https://api.example.com/cb?code=<redacted>&state=s&sig=<redacted>"
    )
  })

  it("masks secret values in JSON, form bodies, credentials and JWTs", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU"
    const masked = Redaction.text(
      `{"access_token":"at-1","refresh_token": "rt-2","name":"ok"} client_secret=cs-3&grant_type=x Authorization: Bearer abcdef123456 id=${jwt}`
    )
    for (const secret of ["at-1", "rt-2", "cs-3", "abcdef123456", jwt]) expect(masked).not.toContain(secret)
    expect(masked).toContain("\"name\":\"ok\"")
    expect(masked).toContain("grant_type=x")
  })

  it("masks GitHub-style `token` credentials but not the English word", () => {
    expect(Redaction.text("Authorization: token ghp_16C7e42F292c6912E7710c838347Ae178B4a")).toBe(
      "Authorization: token <redacted>"
    )
    expect(Redaction.text("The access token expired; request a new token from the server")).toBe(
      "The access token expired; request a new token from the server"
    )
  })

  it("leaves auth-param challenges readable", () => {
    expect(Redaction.text("Bearer realm=\"example\", error=\"invalid_token\"")).toBe(
      "Bearer realm=\"example\", error=\"invalid_token\""
    )
  })

  it("bounds excerpts and masks a secret that straddles the cut", () => {
    const body = `${"a".repeat(2040)}"token":"${"s".repeat(100)}"`
    const out = Redaction.excerpt(body)
    expect(out.length).toBeLessThanOrEqual(2049)
    expect(out).not.toContain("ssssssssss")
    expect(Redaction.excerpt(new Uint8Array([0xff, 0xfe, 0x41]))).toBe("\uFFFD\uFFFDA")
  })

  it("knows which names hold secrets", () => {
    for (const name of ["api_key", "apiKey", "token", "client_secret", "signature", "password", "code", "sig"]) {
      expect(Redaction.isSecretName(name), name).toBe(true)
    }
    for (const name of ["page", "limit", "cursor", "state", "name"]) {
      expect(Redaction.isSecretName(name), name).toBe(false)
    }
  })
})
