/**
 * `pnpm example <name>` reports a failure as one line and exits 1: checked on
 * the failure helper, and once end to end with the OAuth example against a
 * token endpoint that refuses connections (127.0.0.1, a closed port).
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Schema } from "effect"
import { spawnSync } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { failureLine } from "../support/failure.js"

class Broken extends Schema.TaggedError<Broken>()("Broken", { detail: Schema.String }) {
  override get message() {
    return `it broke: ${this.detail}.\nSecond line.`
  }
}

describe("pnpm example: failures", () => {
  it("a typed error is one line with its tag and message; a defect says so; interruption says nothing", () => {
    expect(failureLine(Cause.fail(new Broken({ detail: "x" })))).toBe("Broken: it broke: x.")
    expect(failureLine(Cause.die(new TypeError("bad")))).toBe("defect: TypeError: bad")
    expect(failureLine(Cause.interrupt(Cause.empty as never))).toBeUndefined()
  })

  it("exits 1 with one line on stderr and no stack trace", async () => {
    // A port that was free a moment ago: nothing listens, the token request is refused.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number }
        server.close(() => resolve(port))
      })
    })
    const root = fileURLToPath(new URL("../..", import.meta.url))
    const result = spawnSync(process.execPath, [
      "--conditions=@apikit/source",
      "--import",
      "tsx",
      "examples/run.ts",
      "oauth-client-credentials"
    ], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...process.env,
        OAUTH_TOKEN_URL: `http://127.0.0.1:${port}/token`,
        OAUTH_CLIENT_ID: "app",
        OAUTH_CLIENT_SECRET: "wrong",
        API_URL: `http://127.0.0.1:${port}`,
        CALLS: "1"
      }
    })
    expect(result.status).toBe(1)
    expect(result.stderr.trim().split("\n")).toEqual([
      "pnpm example oauth-client-credentials: CallsFailed: 1 of 1 calls failed"
    ])
  }, 90_000)
})
