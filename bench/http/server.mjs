// A node:http server for the HTTP benchmark, run in its own process so the
// client under test never shares its event loop. Prints its port, serves small JSON.
import { createServer } from "node:http"

const body = JSON.stringify({ id: "p_1", name: "Apollo", tags: ["a", "b"], active: true, count: 42 })
// The OAuth2 token route of the full-pipeline client: a token that lives an hour, so it is fetched once and cached.
const token = JSON.stringify({ access_token: "bench-token", token_type: "Bearer", expires_in: 3600 })
const server = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/oauth/token") {
    req.resume()
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(token) })
      res.end(token)
    })
    return
  }
  // The cache benchmark's routes: the same body with caching headers (the HTTP benchmark's path has none).
  const caching = req.url.startsWith("/cached/")
    ? { "cache-control": "max-age=3600" }
    : req.url.startsWith("/etag/")
    ? { "cache-control": "no-cache", etag: "\"v1\"" }
    : req.url.startsWith("/stale/")
    ? { "cache-control": "max-age=0" }
    : req.url.startsWith("/nostore/")
    ? { "cache-control": "no-store" }
    : {}
  if (caching.etag !== undefined && req.headers["if-none-match"] === caching.etag) {
    res.writeHead(304, caching)
    res.end()
    return
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...caching })
  res.end(body)
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`)
})
process.on("SIGTERM", () => server.close(() => process.exit(0)))
