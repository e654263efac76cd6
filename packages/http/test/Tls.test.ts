/**
 * TLS against a node:https server on 127.0.0.1 whose certificate is issued by
 * a private CA generated in the test (the `selfsigned` package), and which
 * requires a client certificate from the same CA (mTLS).
 */
import { ApiClient } from "@apikit/http"
import * as classify from "@apikit/http/internal/classify"
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import * as LocalServer from "@apikit/testing/LocalServer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Https from "node:https"
import * as Selfsigned from "selfsigned"

const ca = await Selfsigned.generate([{ name: "commonName", value: "apikit test CA" }], {
  keyType: "ec",
  algorithm: "sha256",
  extensions: [
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
  ]
})
const issued = (cn: string, usage: "serverAuth" | "clientAuth") =>
  Selfsigned.generate([{ name: "commonName", value: cn }], {
    keyType: "ec",
    algorithm: "sha256",
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", [usage]: true },
      ...(usage === "serverAuth"
        ? [{ name: "subjectAltName" as const, altNames: [{ type: 2 as const, value: "api.test" }] }]
        : [])
    ]
  })
const server = await issued("api.test", "serverAuth")
const client = await issued("apikit client", "clientAuth")

const listen = Effect.suspend(() =>
  LocalServer.listen(Https.createServer(
    // The leaf alone (no chain): a client without the CA cannot verify it.
    {
      key: server.private,
      cert: server.cert.split(/(?<=-----END CERTIFICATE-----)/)[0]!,
      ca: ca.cert,
      requestCert: true,
      rejectUnauthorized: true
    },
    (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end("{\"secure\":true}")
    }
  ))
)

const call = (baseUrl: string, tls: UndiciHttpClient.TlsOptions | undefined) =>
  Effect.gen(function*() {
    const api = yield* ApiClient.make({ baseUrl })
    return yield* api.get("/")
  }).pipe(Effect.provide(UndiciHttpClient.layerWith(tls === undefined ? {} : { tls })))

describe("TLS with a private CA and mTLS", () => {
  it("maps every certificate code to Tls with the code and message unmasked", () => {
    for (
      const [code, message] of [
        ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"],
        ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate"],
        ["SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain"],
        ["DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"],
        ["CERT_HAS_EXPIRED", "certificate has expired"],
        ["ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"],
        ["HOSTNAME_MISMATCH", "Hostname mismatch"],
        ["ERR_SSL_WRONG_VERSION_NUMBER", "wrong version number"]
      ]
    ) {
      const error = classify.fromTransport("GET", "https://api.test/", {
        cause: Object.assign(new Error(message), { code })
      })
      expect(error.reason).toBe("Tls")
      expect(error.detail).toBe(`${code}: ${message}`)
    }
  })

  it.scoped("an untrusted CA, a name mismatch and a missing client certificate are typed; with all set, it works", () =>
    Effect.gen(function*() {
      const baseUrl = yield* listen
      const untrusted = yield* Effect.flip(call(baseUrl, undefined))
      expect(untrusted._tag === "Transport" && untrusted.reason).toBe("Tls")
      // Node's server sends the CA along with the leaf, so OpenSSL names the self-signed CA in the chain.
      expect(untrusted.message).toContain("SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain")

      const mismatch = yield* Effect.flip(call(baseUrl, { ca: ca.cert }))
      expect(mismatch._tag === "Transport" && mismatch.reason).toBe("Tls")
      expect(mismatch.message).toContain("ERR_TLS_CERT_ALTNAME_INVALID")

      // The server requires a client certificate: without one the handshake is refused.
      const noClientCert = yield* Effect.flip(call(baseUrl, { ca: ca.cert, servername: "api.test" }))
      expect(noClientCert._tag).toBe("Transport")

      const ok = yield* call(baseUrl, {
        ca: ca.cert,
        servername: "api.test",
        cert: client.cert,
        key: Redacted.make(client.private)
      })
      expect(ok).toEqual({ secure: true })
    }))
})
