import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { apikit } from "./support/apikit.js"

const repo = fileURLToPath(new URL("../../../", import.meta.url))

// GitHub's documented example (docs.github.com, "Validating webhook deliveries").
const ghSecret = "It's a Secret to Everybody"
const ghHeader = "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
// The Standard Webhooks reference vector.
const sw = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: "1614265330",
  body: "{\"test\": 2432232314}",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
}

const tmp = mkdtempSync(join(tmpdir(), "apikit-cli-"))
const file = (name: string, content: string) => {
  const path = join(tmp, name)
  writeFileSync(path, content)
  return path
}

describe("apikit webhooks verify", () => {
  it.effect("prints valid and exits 0 for GitHub's documented example, from a file or stdin", () =>
    Effect.gen(function*() {
      const fromFile = yield* apikit([
        "webhooks",
        "verify",
        "--scheme",
        "github",
        "--secret",
        ghSecret,
        "--header",
        ghHeader,
        "--body-file",
        file("gh.txt", "Hello, World!")
      ])
      expect(fromFile).toEqual({ code: 0, stdout: "valid", stderr: "" })
      const fromStdin = yield* apikit(
        ["webhooks", "verify", "--scheme", "github", "--secret", ghSecret, "--header", ghHeader],
        "Hello, World!"
      )
      expect(fromStdin.code).toBe(0)
    }))

  it.effect("uses the body byte for byte: a trailing newline makes it invalid (exit 1)", () =>
    Effect.gen(function*() {
      const result = yield* apikit(
        ["webhooks", "verify", "--scheme", "github", "--secret", ghSecret, "--header", ghHeader],
        "Hello, World!\n"
      )
      expect(result.code).toBe(1)
      expect(result.stdout).toBe("invalid: NoMatchingSignature (x-hub-signature-256)")
    }))

  it.effect("checks Standard Webhooks with --now and --tolerance, and accepts a rotated secret list", () =>
    Effect.gen(function*() {
      const args = (now: string, ...extra: Array<string>) => [
        "webhooks",
        "verify",
        "--scheme",
        "standard",
        "--secret",
        "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==",
        "--secret",
        sw.secret,
        "--header",
        `webhook-id: ${sw.id}`,
        "--header",
        `Webhook-Timestamp: ${sw.timestamp}`,
        "--header",
        `webhook-signature:${sw.signature}`,
        "--now",
        now,
        ...extra
      ]
      expect((yield* apikit(args(sw.timestamp), sw.body)).stdout).toBe("valid")
      const late = yield* apikit(args(String(Number(sw.timestamp) + 301)), sw.body)
      expect(late.code).toBe(1)
      expect(late.stdout).toContain("invalid: TimestampTooOld (webhook-timestamp)")
      expect((yield* apikit(args(String(Number(sw.timestamp) + 301), "--tolerance", "0"), sw.body)).code).toBe(0)
    }))

  it.effect("reports a duplicated header as invalid, and usage errors with exit 2", () =>
    Effect.gen(function*() {
      const duplicated = yield* apikit(
        ["webhooks", "verify", "--scheme", "github", "--secret", ghSecret, "--header", ghHeader, "--header", ghHeader],
        "Hello, World!"
      )
      expect(duplicated.code).toBe(1)
      expect(duplicated.stdout).toContain("MalformedHeader")
      expect((yield* apikit(["webhooks", "verify", "--scheme", "nope", "--secret", "x"], "")).code).toBe(2)
      expect((yield* apikit(["webhooks", "verify", "--scheme", "github"], "")).code).toBe(2)
      const badHeader = yield* apikit(
        ["webhooks", "verify", "--scheme", "github", "--secret", "x", "--header", "no colon"],
        ""
      )
      expect(badHeader.code).toBe(2)
      expect(badHeader.stderr).toContain("Name: value")
      const noBody = yield* apikit(["webhooks", "verify", "--scheme", "github", "--secret", "x", "--header", ghHeader])
      expect(noBody.code).toBe(2)
      expect(noBody.stderr).toContain("--body-file")
      const twilio = yield* apikit(["webhooks", "verify", "--scheme", "twilio", "--secret", "x"], "")
      expect(twilio.code).toBe(2)
      const badSecret = yield* apikit(
        ["webhooks", "verify", "--scheme", "standard", "--secret", "whsec_***", "--header", "webhook-id: x"],
        ""
      )
      expect(badSecret.code).toBe(2)
      expect(badSecret.stderr).not.toContain("***")
      const missingFile = yield* apikit([
        "webhooks",
        "verify",
        "--scheme",
        "github",
        "--secret",
        "x",
        "--body-file",
        join(tmp, "none")
      ])
      expect(missingFile.code).toBe(2)
    }))

  it.effect("has --help on every level", () =>
    Effect.gen(function*() {
      for (
        const args of [["--help"], ["webhooks", "--help"], ["webhooks", "verify", "--help"], [
          "webhooks",
          "sign",
          "--help"
        ]]
      ) {
        const result = yield* apikit(args)
        expect(result.code).toBe(0)
        expect(result.stdout).toContain("USAGE")
      }
      expect((yield* apikit(["webhooks", "verify", "--help"])).stdout).toContain("--body-file")
    }))
})

describe("apikit webhooks sign", () => {
  it.effect("prints the headers of the Standard Webhooks reference vector, and svix-* names", () =>
    Effect.gen(function*() {
      const base = ["webhooks", "sign", "--secret", sw.secret, "--id", sw.id, "--timestamp", sw.timestamp]
      const standard = yield* apikit([...base, "--scheme", "standard"], sw.body)
      expect(standard.code).toBe(0)
      expect(standard.stdout.split("\n")).toEqual([
        `webhook-id: ${sw.id}`,
        `webhook-timestamp: ${sw.timestamp}`,
        `webhook-signature: ${sw.signature}`
      ])
      const svix = yield* apikit([...base, "--scheme", "svix"], sw.body)
      expect(svix.stdout).toContain(`svix-signature: ${sw.signature}`)
    }))

  it.effect("round-trips every scheme: what sign prints, verify accepts", () =>
    Effect.gen(function*() {
      const body = "{\"type\":\"ping\",\"n\":1}\n"
      for (const scheme of ["standard", "svix", "stripe", "github", "slack", "shopify", "twilio"]) {
        const secret = scheme === "standard" || scheme === "svix" ? sw.secret : "s3cr3t"
        const url = scheme === "twilio" ? ["--url", "https://example.com/hook?x=1"] : []
        const signed = yield* apikit(
          ["webhooks", "sign", "--scheme", scheme, "--secret", secret, "--timestamp", "1700000000", ...url],
          body
        )
        expect(signed.code, scheme).toBe(0)
        const headers = signed.stdout.split("\n").flatMap((line) => ["--header", line])
        const verified = yield* apikit(
          ["webhooks", "verify", "--scheme", scheme, "--secret", secret, "--now", "1700000000", ...url, ...headers],
          body
        )
        expect(verified, scheme).toEqual({ code: 0, stdout: "valid", stderr: "" })
      }
    }))
})

describe("the apikit binary", () => {
  const tsx = join(repo, "node_modules/.bin/tsx")
  const run = (args: ReadonlyArray<string>, input: string) =>
    spawnSync(tsx, ["--conditions=@apikit/source", "packages/cli/src/bin.ts", ...args], {
      cwd: repo,
      input,
      encoding: "utf8",
      timeout: 60_000
    })

  it("exits 0 valid, 1 invalid, 2 usage error, reading the body from stdin", () => {
    const args = ["webhooks", "verify", "--scheme", "github", "--secret", ghSecret, "--header", ghHeader]
    const valid = run(args, "Hello, World!")
    expect(valid.status).toBe(0)
    expect(valid.stdout).toBe("valid\n")
    const invalid = run(args, "Hello, World!\n")
    expect(invalid.status).toBe(1)
    expect(invalid.stdout).toContain("invalid: NoMatchingSignature")
    const usage = run(["webhooks", "verify", "--scheme", "bogus"], "")
    expect(usage.status).toBe(2)
  }, 120_000)
})
