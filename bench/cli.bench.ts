/**
 * Start-up time of the installed `apikit` command (`pnpm bench cli`): the
 * packages are packed and installed with npm into a new app, as a user gets
 * them (scripts/consumer-app.ts), and each command is started cold in a new
 * process, beside `node -e 0` (Node's own floor on this machine) in the same
 * run. Reported: the median and slowest of CLI_RUNS runs (default 15) after
 * one warm-up run that fills the file-system cache.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { install, pack } from "../scripts/consumer-app.js"

const runs = Number(process.env["CLI_RUNS"] ?? 15)
const target = 400

const time = (args: ReadonlyArray<string>, cwd: string, input?: string): Array<number> => {
  const samples: Array<number> = []
  for (let i = 0; i <= runs; i++) {
    const started = process.hrtime.bigint()
    const result = spawnSync(args[0]!, args.slice(1), { cwd, input: input ?? "", encoding: "utf8" })
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    if (result.status !== 0) {
      throw new Error(`${args.join(" ")} exited ${result.status}: ${result.stderr}`)
    }
    if (i > 0) samples.push(ms) // the first run warms the file-system cache
  }
  return samples.sort((a, b) => a - b)
}

export const run = async (): Promise<string> => {
  const work = mkdtempSync(join(tmpdir(), "apikit-bench-cli-"))
  try {
    const tarballs = join(work, "tarballs")
    const app = join(work, "app")
    pack(tarballs)
    install(tarballs, app)
    const bin = join(app, "node_modules/@apikit/cli/dist/bin.js")
    const node = process.execPath
    const github = [
      "webhooks",
      "verify",
      "--scheme",
      "github",
      "--secret",
      "It's a Secret to Everybody",
      "--header",
      "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    ]
    const load = loadavg()[0]!.toFixed(2)
    const floor = time([node, "-e", "0"], app)
    const rows: Array<[string, Array<number>]> = [
      ["`node -e 0` (Node's floor)", floor],
      ["`apikit --help`", time([node, bin, "--help"], app)],
      ["`apikit webhooks verify` (GitHub's example delivery)", time([node, bin, ...github], app, "Hello, World!")],
      ["`npx apikit --help` (npx's own start-up included)", time(["npx", "--no-install", "apikit", "--help"], app)]
    ]
    const median = (s: Array<number>) => s[Math.floor(s.length / 2)]!
    const lines = rows.map(([name, s]) =>
      `| ${name} | ${median(s).toFixed(0)} | ${s[s.length - 1]!.toFixed(0)} | ${
        (median(s) / median(floor)).toFixed(1)
      }x |`
    )
    const help = median(rows[1]![1])
    return [
      "## CLI start-up (installed from the packed tarballs)",
      "",
      `${runs} cold starts each after one warm-up, load ${load} (1 min) when measuring began.`,
      "",
      "| command | median ms | slowest ms | vs `node -e 0` |",
      "| --- | ---: | ---: | ---: |",
      ...lines,
      "",
      `Target: \`apikit --help\` under ${target} ms on an idle machine: ${help < target ? "met" : "missed"} (${
        help.toFixed(0)
      } ms at load ${load}).`
    ].join("\n")
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
