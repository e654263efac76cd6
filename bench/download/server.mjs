// Serves GET /file/<n>: n bytes of a pattern, written with backpressure, for the download benchmark.
import { createServer } from "node:http"

const block = Buffer.alloc(1024 * 1024, 7)
const server = createServer((req, res) => {
  const total = Number(req.url.split("/").pop())
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) })
  let written = 0
  const next = () => {
    while (written < total) {
      const part = block.subarray(0, Math.min(block.length, total - written))
      written += part.length
      if (!res.write(part)) return void res.once("drain", next)
    }
    res.end()
  }
  next()
})
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`)
})
process.on("SIGTERM", () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
