/**
 * One of `servers.ts`'s real rate-limited servers as a process of its own,
 * for tests in other packages (the multi-process Redis test):
 *
 *   node --import tsx serve.ts <kind> <limit> <windowMs>
 *
 * It writes "@<url>" once listening; on the line "stats" it writes
 * "@" and JSON `{ arrivals, refused }`; "exit" (or the end of stdin) stops it.
 */
import * as readline from "node:readline"
import * as Servers from "./servers.js"

const [kind = "express-draft-8", limit = "10", windowMs = "1000"] = process.argv.slice(2)
const server = await Servers.start(kind as Servers.Kind, Number(limit), Number(windowMs))
process.stdout.write(`@${server.url}\n`)
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line !== "stats") break
  process.stdout.write(`@${JSON.stringify({ arrivals: server.arrivals, refused: server.refused })}\n`)
}
await server.close()
process.exit(0)
