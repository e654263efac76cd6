/**
 * multipart/form-data uploads with the global FormData (fields and a file),
 * parsed by busboy on a node:http server on 127.0.0.1.
 */
import { ApiClient } from "@apikit/http"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import { listen } from "@apikit/testing/LocalServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpBody from "@effect/platform/HttpBody"
import { describe, expect, it } from "@effect/vitest"
import Busboy from "busboy"
import { Effect } from "effect"

const server = listen((req, res) => {
  const fields: Record<string, string> = {}
  const files: Array<{ name: string; filename: string; type: string; size: number }> = []
  const parser = Busboy({ headers: req.headers })
  parser.on("field", (name, value) => void (fields[name] = value))
  parser.on("file", (name, stream, info) => {
    let size = 0
    stream.on("data", (c: Buffer) => (size += c.length))
    stream.on("end", () => files.push({ name, filename: info.filename ?? "", type: info.mimeType, size }))
  })
  parser.on("close", () => {
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({ fields, files }))
  })
  parser.on("error", () => {
    res.writeHead(400)
    res.end()
  })
  req.pipe(parser)
})

const transports = [
  ["apikit's UndiciHttpClient", UndiciHttpClient.layer],
  ["the platform's FetchHttpClient", FetchHttpClient.layer],
  ["@effect/platform-node's NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  ["@effect/platform-node's NodeHttpClient.layer (node:http)", NodeHttpClient.layer]
] as const

describe.each(transports)("multipart uploads over %s", (_name, transport) => {
  it.scoped("sends FormData fields and files that busboy parses", () =>
    Effect.gen(function*() {
      const baseUrl = yield* server
      const api = yield* ApiClient.make({ baseUrl })
      const form = new FormData()
      form.append("title", "quarterly report")
      form.append("file", new Blob([new Uint8Array(300_000).fill(7)], { type: "application/pdf" }), "report.pdf")
      const parsed = yield* api.post("/upload", { rawBody: HttpBody.formData(form) })
      expect(parsed).toEqual({
        fields: { title: "quarterly report" },
        files: [{ name: "file", filename: "report.pdf", type: "application/pdf", size: 300_000 }]
      })
    }).pipe(Effect.provide(transport)))
})
