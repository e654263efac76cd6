/**
 * `pnpm bench`: runs every `bench/*.bench.ts` (or those named on the command
 * line) in this one process, so peers are measured side by side in the same run.
 * Each bench module exports `run(): Promise<string>` returning a markdown section;
 * each section is printed and written to `bench/results/sections/` with when it
 * ran, and `bench/results/latest.md` is made from all of them.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort()

mkdirSync(`${here}/results/sections`, { recursive: true })
/** When a section starts, and how busy the machine is then. */
const stamp = () =>
  `run ${new Date().toISOString()}, load ${loadavg().map((l) => l.toFixed(2)).join(" / ")} (1/5/15 min) at its start`

for (const file of files) {
  const started = stamp()
  const mod = (await import(`./${file}`)) as { run: () => Promise<string> }
  const section = await mod.run()
  console.log(section)
  // Each section is written on its own, with when it ran: `pnpm bench http` refreshes the
  // HTTP figures and keeps the others. Peers are always measured in the same run as apikit.
  const [title, ...rest] = section.split("\n")
  writeFileSync(
    `${here}/results/sections/${file.replace(/\.bench\.ts$/, "")}.md`,
    [title, "", `_${started}._`, ...rest].join("\n")
  )
}
const sections = readdirSync(`${here}/results/sections`).filter((f) => f.endsWith(".md")).sort()
writeFileSync(
  `${here}/results/latest.md`,
  [
    `# apikit benchmarks\n\nNode ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs. Each section says when it ran and the machine's load then.\n`,
    ...sections.map((f) => readFileSync(`${here}/results/sections/${f}`, "utf8"))
  ].join("\n")
)
console.log(`\nwritten to bench/results/latest.md`)
