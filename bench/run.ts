/**
 * `pnpm bench`: runs every `bench/*.bench.ts` (or those named on the command
 * line) in this one process, so peers are measured side by side in the same run.
 * Each bench module exports `run(): Promise<string>` returning a markdown section;
 * the sections are printed and written to `bench/results/`.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort()

const sections: Array<string> = [
  // Numbers depend on what else runs: record the load at the start next to them.
  `# apikit benchmarks\n\nNode ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load ${
    loadavg().map((l) => l.toFixed(2)).join(" / ")
  } (1/5/15 min) at start, run ${new Date().toISOString()}\n`
]
for (const file of files) {
  const mod = (await import(`./${file}`)) as { run: () => Promise<string> }
  const section = await mod.run()
  console.log(section)
  sections.push(section)
}
mkdirSync(`${here}/results`, { recursive: true })
writeFileSync(`${here}/results/latest.md`, sections.join("\n"))
console.log(`\nwritten to bench/results/latest.md`)
