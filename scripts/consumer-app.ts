/**
 * Builds a user's app from apikit's packed packages: `pnpm pack` of every
 * package (each `prepack` builds `dist/`), then `npm install` of the tarballs
 * into a new folder outside the workspace, next to the newest Effect 3.x the
 * peer ranges allow. Shared by the consumer check (scripts/consumer-check.ts)
 * and the CLI start-up benchmark (bench/cli.bench.ts).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process"
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

export const repo = fileURLToPath(new URL("..", import.meta.url))
const fixtures = fileURLToPath(new URL("consumer/", import.meta.url))

/** A command that failed, with the tail of what it printed. */
export class CommandFailed {
  constructor(readonly why: string) {}
}

export interface Output {
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion; anything but exit 0 is a {@link CommandFailed}. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: SpawnSyncOptions & { input?: string } = {}
): Output => {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options })
  const stdout = String(result.stdout ?? "")
  const stderr = String(result.stderr ?? "")
  if (result.error !== undefined || result.status !== 0) {
    const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-25).join("\n    ")
    throw new CommandFailed(
      `\`${command} ${args.join(" ")}\` ${
        result.error ? `could not run: ${result.error.message}` : `exited ${result.status ?? result.signal}`
      }\n    ${tail}`
    )
  }
  return { stdout, stderr }
}

/** `pnpm pack`s every package into `dest`; returns the tarball file names. */
export const pack = (dest: string): Array<string> => {
  const pnpm = process.env.npm_execpath
  const [cmd, ...pre] = pnpm !== undefined && pnpm.endsWith(".cjs")
    ? [process.execPath, pnpm]
    : ["npx", "--yes", "pnpm@10"]
  run(cmd!, [...pre, "-r", "--filter", "./packages/*", "pack", "--pack-destination", dest], { cwd: repo })
  return readdirSync(dest).filter((f) => f.endsWith(".tgz"))
}

/** The packages in this repository that are published. */
export const publishedPackages = (): Array<string> =>
  readdirSync(join(repo, "packages")).filter((d) => existsSync(join(repo, "packages", d, "package.json")))

/**
 * A new app in `app` with the tarballs in `tarballs` installed by npm, plus the
 * fixture files of scripts/consumer (its programs and tests). Returns the
 * installed version of `effect`.
 */
export const install = (tarballs: string, app: string): string => {
  cpSync(fixtures, app, { recursive: true })
  const apikit = Object.fromEntries(
    readdirSync(tarballs).filter((f) => f.endsWith(".tgz")).map((f) => [
      `@apikit/${f.replace(/^apikit-/, "").replace(/-\d+\.\d+\.\d+.*\.tgz$/, "")}`,
      `file:${join(tarballs, f)}`
    ])
  )
  const manifest = {
    name: "apikit-consumer-app",
    private: true,
    type: "module",
    dependencies: {
      ...apikit,
      effect: "^3.22.4",
      "@effect/platform": "^0.97.2",
      "@effect/platform-node": "^0.108.2",
      "@effect/experimental": "^0.61.1",
      ioredis: "^5.9.2"
    },
    devDependencies: { "@effect/vitest": "^0.30.0", "@types/node": "^20.19.0", typescript: "~5.9.3", vitest: "^3.2.7" }
  }
  writeFileSync(join(app, "package.json"), JSON.stringify(manifest, null, 2))
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app })
  return (JSON.parse(readFileSync(join(app, "node_modules/effect/package.json"), "utf8")) as { version: string })
    .version
}
