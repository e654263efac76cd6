import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const repo = fileURLToPath(new URL("../../../", import.meta.url))
const tsx = `${repo}node_modules/.bin/tsx`
const bin = `${repo}packages/cli/src/bin.ts`

/** Resolves with the base URL once the sandbox prints it; rejects on exit or after 20 s. */
const ready = (child: ChildProcess, output: { text: string }) =>
  new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; output so far:\n${output.text}`)), 20_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      output.text += chunk.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output.text)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code}:\n${output.text}`))
    })
  })

describe("apikit sandbox", () => {
  it("prints its URL and the demo credentials, answers calls, and stops on a signal", async () => {
    const child = spawn(tsx, ["--conditions=@apikit/source", bin, "sandbox", "--port", "0", "--seed", "1"], {
      cwd: repo
    })
    const output = { text: "" }
    try {
      const url = await ready(child, output)
      expect(output.text).toContain("client id       sandbox-client")
      expect(output.text).toContain("API key         sk_test_sandbox")
      expect(output.text).toContain(`curl -s -H 'X-API-Key: sk_test_sandbox' ${url}/v1/projects`)

      const created = await fetch(`${url}/v1/projects`, {
        method: "POST",
        headers: { "x-api-key": "sk_test_sandbox", "content-type": "application/json" },
        body: JSON.stringify({ name: "Apollo" }),
        signal: AbortSignal.timeout(5_000)
      })
      expect(created.status).toBe(201)
      expect(await created.json()).toMatchObject({ name: "Apollo" })
      const stats = await (await fetch(`${url}/_stats`, { signal: AbortSignal.timeout(5_000) })).json()
      expect(stats).toMatchObject({ projectsCreated: 1, duplicates: 0 })
    } finally {
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          resolve()
        }, 5_000)
        child.once("exit", () => {
          clearTimeout(timer)
          resolve()
        })
      })
      child.kill("SIGINT")
      await exited
    }
    // Ctrl-C is a clean stop: the interruption exits 130, not a failure's 1.
    expect(child.exitCode).toBe(130)
  }, 30_000)

  it("refuses faults that do not parse, with exit code 2 and the reason", () => {
    const result = spawnSync(tsx, ["--conditions=@apikit/source", bin, "sandbox", "--faults", "5xx=2"], {
      cwd: repo,
      encoding: "utf8",
      timeout: 20_000
    })
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/--faults: .*5xx/)
  }, 30_000)
})
