/**
 * The consumer check (`pnpm test:consumer`, part of `pnpm test`): apikit as a
 * user meets it. Packs every package (each `prepack` builds `dist/`), installs
 * the tarballs with npm into a new app outside the workspace, next to the
 * newest Effect 3.x the peer ranges allow, and then, on every Node version in
 * APIKIT_CONSUMER_NODES (default "20,22,24"; versions other than the running
 * one come from the npm registry's `node` package through npx):
 *
 * - runs a plain JavaScript ESM program (consumer/app.mjs) under plain `node`;
 * - loads `@apikit/http` with `require()` from CommonJS;
 * - runs `npx apikit --help` and `npx apikit webhooks sign …`;
 * - runs a vitest test of the app's own (consumer/app.test.ts: MockHttp + TestClock).
 *
 * Once: type-checks a TypeScript program (consumer/typed.ts) under flags
 * stricter than the repository's, and asserts that no apikit `.ts` source is
 * part of its program; asserts exactly one copy of `effect` is installed.
 * Each failure says which step failed and why. APIKIT_CONSUMER_KEEP=1 keeps
 * the app folder for a look.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { CommandFailed, install, pack, publishedPackages, run } from "./consumer-app.js"

const work = mkdtempSync(join(tmpdir(), "apikit-consumer-"))
const tarballs = join(work, "tarballs")
const app = join(work, "app")
const nodes = (process.env.APIKIT_CONSUMER_NODES ?? "20,22,24").split(",").map((v) => v.trim()).filter(Boolean)

let passed = 0
let failed = 0

const step = (name: string, body: () => string | void): boolean => {
  const started = process.hrtime.bigint()
  try {
    const detail = body()
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n)
    console.log(`  ✓ ${name} (${ms} ms)${detail ? `: ${detail}` : ""}`)
    passed++
    return true
  } catch (error) {
    const why = error instanceof CommandFailed ? error.why : String(error instanceof Error ? error.stack : error)
    console.log(`  ✗ ${name}\n    ${why}`)
    failed++
    return false
  }
}

const expectThat = (ok: boolean, why: string) => {
  if (!ok) throw new CommandFailed(why)
}

/** The directory of a `node` binary of the given major version, for PATH. */
const nodeBin = (major: string): string => {
  if (process.versions.node.split(".")[0] === major) return dirname(process.execPath)
  const { stdout } = run("npx", ["--yes", `node@${major}`, "-p", "process.execPath"])
  return dirname(stdout.trim())
}

console.log(`apikit consumer check in ${work}`)

const packed = step("pack every package (prepack builds dist/)", () => {
  const files = pack(tarballs)
  const expected = publishedPackages()
  expectThat(files.length === expected.length, `expected ${expected.length} tarballs, got ${files.join(", ")}`)
  // What ships: the build, the sources its maps point at, the docs. No tests, tsconfigs or build info.
  for (const file of files) {
    const list = run("tar", ["-tzf", join(tarballs, file)]).stdout.split("\n").filter(Boolean)
    const stray = list.filter((p) =>
      !/^package\/(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/.+\.(js|js\.map|d\.ts|d\.ts\.map)|src\/.+\.ts)$/
        .test(p)
    )
    expectThat(stray.length === 0, `${file} ships files it should not: ${stray.slice(0, 5).join(", ")}`)
    expectThat(list.includes("package/dist/index.js"), `${file} has no dist/index.js`)
  }
  return `${files.length} tarballs`
})

const installed = packed && step("npm install the tarballs into a new app, with the newest Effect 3.x", () => {
  return `effect ${install(tarballs, app)}`
})

if (installed) {
  step("exactly one copy of effect is installed", () => {
    const copies: Array<string> = []
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue
        const path = join(dir, entry.name)
        if (entry.name === "effect" && existsSync(join(path, "package.json"))) copies.push(path)
        if (entry.name.startsWith("@") || entry.name === "node_modules") walk(path)
        else if (existsSync(join(path, "node_modules"))) walk(join(path, "node_modules"))
      }
    }
    walk(join(app, "node_modules"))
    expectThat(copies.length === 1, `found ${copies.length}: ${copies.join(", ")}`)
  })

  step("a strict TypeScript app type-checks against the declarations, no apikit .ts source in its program", () => {
    const tsc = join(app, "node_modules/typescript/bin/tsc")
    run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: app })
    const files = run(process.execPath, [tsc, "-p", "tsconfig.json", "--listFilesOnly"], { cwd: app }).stdout
      .split("\n")
      .filter((f) => f.includes("/node_modules/@apikit/"))
    const sources = files.filter((f) => !f.endsWith(".d.ts"))
    expectThat(sources.length === 0, `apikit sources compiled as part of the app: ${sources.slice(0, 5).join(", ")}`)
    return `${files.length} apikit declaration files`
  })

  for (const major of nodes) {
    let bin = ""
    if (
      !step(`Node ${major} is available`, () => {
        bin = nodeBin(major)
        return bin
      })
    ) continue
    // The repository's NODE_OPTIONS (tsx's loader, under pnpm) must not reach the app.
    const { NODE_OPTIONS: _, ...inherited } = process.env
    const env = { ...inherited, PATH: `${bin}${delimiter}${process.env.PATH ?? ""}` }
    step(
      `Node ${major}: the plain JavaScript app runs`,
      () => run(join(bin, "node"), ["app.mjs"], { cwd: app, env }).stdout.trim().split("\n").pop()
    )
    step(`Node ${major}: require() from CommonJS`, () => {
      const script = "const { ApiClient } = require('@apikit/http'); " +
        "if (typeof ApiClient.make !== 'function') process.exit(1)"
      run(join(bin, "node"), ["-e", script], { cwd: app, env })
    })
    step(`Node ${major}: npx apikit --help`, () => {
      const { stdout } = run("npx", ["--no-install", "apikit", "--help"], { cwd: app, env })
      expectThat(stdout.includes("webhooks"), `the help does not list the webhooks command:\n${stdout}`)
    })
    step(`Node ${major}: npx apikit webhooks sign`, () => {
      const { stdout } = run("npx", [
        "--no-install",
        "apikit",
        "webhooks",
        "sign",
        "--scheme",
        "standard",
        "--secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--id",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "--timestamp",
        "1614265330"
      ], { cwd: app, env, input: "{\"test\": 2432232314}" })
      // Standard Webhooks' reference vector.
      const expected = "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
      expectThat(stdout.includes(expected), `expected "${expected}" in:\n${stdout}`)
    })
    step(`Node ${major}: the app's vitest test (MockHttp + TestClock)`, () => {
      const { stdout } = run("npx", ["--no-install", "vitest", "run", "--reporter=dot"], { cwd: app, env })
      expectThat(/1 passed/.test(stdout), `expected one passing test:\n${stdout}`)
    })
  }
}

if (process.env.APIKIT_CONSUMER_KEEP === "1") console.log(`kept ${work}`)
else rmSync(work, { recursive: true, force: true })
console.log(`Consumer: ${passed} passed, ${failed} failed`)
process.exitCode = failed === 0 ? 0 : 1
