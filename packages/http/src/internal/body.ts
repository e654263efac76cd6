/**
 * The one reader of response bodies, whatever the transport: it is fed the
 * status and headers, then the chunks, then the end (or a failure), and
 * settles once with what the attempt needs: the bytes read up to a limit and
 * whether the body went past it.
 *
 * - No body is read for 204/205/304 and HEAD.
 * - A declared `content-length` over the limit stops the exchange before any
 *   byte is read; a streamed body stops at the first chunk past it. Stopping
 *   aborts the exchange (the socket is closed, not drained).
 * - The limit is `maxBytes` for 2xx responses and `errorLimit` otherwise (error
 *   bodies are read only for the excerpt and the field errors).
 * - A `content-encoding` of gzip, deflate, br (and zstd where Node has it) is
 *   undone as the chunks arrive (node:zlib streams), unless the transport did
 *   it already (fetch). The limit applies to the decoded size (and to the
 *   encoded one): a decompression bomb stops at the limit, after a bounded
 *   amount of work, as `ResponseTooLarge`. A body that does not decode settles
 *   with `encodingError` saying which encoding and why.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Zlib from "node:zlib"

/** @internal */
export const empty = new Uint8Array(0)

/** The first `size` bytes of `chunks`, joined. @internal */
export const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 0) return empty
  if (chunks.length === 1) return chunks[0]!.subarray(0, size)
  const out = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    if (offset >= size) break
    const part = chunk.subarray(0, size - offset)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Whether a response to `method` with `status` has no body to read. @internal */
export const noBody = (status: number, method: string): boolean =>
  status === 204 || status === 205 || status === 304 || method === "HEAD"

/** A `content-length` value as a number, when it is one. @internal */
export const declaredLength = (header: string | undefined): number | undefined =>
  header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined

const zstd = (Zlib as { readonly createZstdDecompress?: () => Zlib.Gunzip }).createZstdDecompress

/** The content codings apikit asks for and decodes, best first: what `accept-encoding` says. @internal */
export const acceptEncoding: string = zstd === undefined ? "gzip, deflate, br" : "gzip, deflate, br, zstd"

// Like browsers and fetch, a body cut short at a flush point is kept rather than failed.
const lenient = { finishFlush: Zlib.constants.Z_SYNC_FLUSH }

/**
 * A decoder for `coding`, given the first chunk (HTTP "deflate" is zlib-wrapped, but raw deflate is common).
 *
 * @internal
 */
export const decoderFor = (coding: string, first: Uint8Array): Zlib.Gunzip | undefined => {
  switch (coding) {
    case "gzip":
    case "x-gzip":
      return Zlib.createGunzip(lenient)
    case "deflate":
      return (first[0]! & 0x0f) === 8 && ((first[0]! << 8) | (first[1] ?? 0)) % 31 === 0
        ? Zlib.createInflate(lenient)
        : Zlib.createInflateRaw(lenient)
    case "br":
      return Zlib.createBrotliDecompress()
    case "zstd":
      return zstd?.()
    default:
      return undefined
  }
}

/** Stops a decoder for good: nothing it still emits reaches its listeners, and a late error is swallowed. */
export const discardDecoder = (decoder: Zlib.Gunzip): void => {
  decoder.removeAllListeners()
  decoder.on("error", () => {})
  decoder.destroy()
}

const supported = (coding: string): boolean =>
  coding === "gzip" || coding === "x-gzip" || coding === "deflate" || coding === "br" ||
  (coding === "zstd" && zstd !== undefined)

/**
 * What a transport feeds: the final response's head (1xx responses are not
 * passed on), its body chunks, its end, or the failure of the exchange.
 * Calls after the reader settled are ignored.
 *
 * @internal
 */
export interface Sink {
  /** The body is handed on as it arrives (a streamed response), never read in one piece. */
  readonly streaming: boolean
  /**
   * The response head. `decoded` is true when the transport already undid the content-encoding (fetch).
   * False when the body must not be read (declared over the limit, an unknown coding): stop the exchange.
   */
  head(status: number, headers: Headers.Headers, decoded: boolean): boolean
  /** A body chunk; false when the body went past the limit: stop the exchange (close, do not drain). */
  data(chunk: Uint8Array): boolean
  end(): void
  fail(cause: unknown): void
}

/**
 * What a reader failed with when the transport died (a bug, or a test mock's
 * deliberate defect such as MockHttp's unmatched route): the attempt dies
 * with it instead of reporting a transport failure, so nothing is lost.
 *
 * @internal
 */
export class Defect {
  constructor(readonly defect: unknown) {}
}

/**
 * Reads one response body into memory, bounded. `onSettled` is called once.
 * A reader that settled with a response is the response: `status`, `headers`
 * and `body` (what `Policy.ApiResponse` asks for), without a copy.
 *
 * @internal
 */
export class Reader implements Sink {
  status = 0
  headers: Headers.Headers = undefined as unknown as Headers.Headers
  /** The body, up to the limit. */
  body: Uint8Array = empty
  /** The body went past the limit (declared or read); `body` holds what was read up to it. */
  truncated = false
  /** The limit that applied to this response. */
  limit: number
  settled = false
  /** A 2xx head arrived at a streaming reader (internal/stream.ts): the body goes to its consumer. */
  streaming = false
  /** Set when the exchange failed (no response, or a body that broke off): what it failed with. */
  failed = false
  cause: unknown = undefined
  /** The content-encoding being undone, if any. */
  encoding: string | undefined = undefined
  /** Set when the body could not be decoded: the encoding and why. */
  encodingError: string | undefined = undefined
  private decoder: Zlib.Gunzip | undefined = undefined
  private encodedSize = 0
  private chunks: Array<Uint8Array> = []
  private size = 0

  constructor(
    readonly method: string,
    readonly maxBytes: number,
    readonly errorLimit: number,
    readonly onSettled: (reader: Reader) => void,
    /** The request is conditional and its sender takes a 304 as an answer (the cache stage). */
    readonly notModified = false
  ) {
    this.limit = maxBytes
  }

  /** A 2xx, or a 304 for a sender that asked for one. */
  private success(status: number): boolean {
    return (status >= 200 && status < 300) || (status === 304 && this.notModified)
  }

  get ok(): boolean {
    return this.success(this.status)
  }

  head(status: number, headers: Headers.Headers, decoded: boolean): boolean {
    if (this.settled) return true
    this.status = status
    this.headers = headers
    this.limit = this.success(status) ? this.maxBytes : this.errorLimit
    // Settled now; what may still come (nothing, for these) is ignored and the connection is kept.
    if (noBody(status, this.method)) return this.settle()
    const declared = declaredLength(headers["content-length"])
    if (declared === 0) return this.settle()
    const coding = headers["content-encoding"]?.trim().toLowerCase()
    if (coding !== undefined && coding !== "" && coding !== "identity") {
      // A transport that decodes (fetch) passes codings it does not know through as they are.
      if (!supported(coding)) {
        this.encoding = coding
        this.encodingError = `content-encoding "${coding.slice(0, 50)}" is not one apikit decodes (${acceptEncoding})`
        this.settle()
        return false
      }
      if (!decoded) this.encoding = coding
    }
    return declared === undefined || declared <= this.limit || this.stop()
  }

  data(chunk: Uint8Array): boolean {
    // Past a limit or an undecodable body found while decoding: the transport stops the exchange.
    if (this.settled) return !this.truncated && this.encodingError === undefined
    if (this.encoding !== undefined) return this.decode(chunk)
    this.chunks.push(chunk)
    this.size += chunk.length
    return this.size <= this.limit || this.stop()
  }

  private decode(chunk: Uint8Array): boolean {
    this.encodedSize += chunk.length
    if (this.encodedSize > this.limit) return this.stop()
    let decoder = this.decoder
    if (decoder === undefined) {
      decoder = this.decoder = decoderFor(this.encoding!, chunk)!
      decoder.on("data", (out: Uint8Array) => {
        if (this.settled) return
        this.chunks.push(out)
        this.size += out.length
        if (this.size > this.limit) this.stop()
      })
      decoder.on("error", (e: Error) => {
        if (this.settled) return
        this.encodingError = `${this.encoding}: ${e.message}`
        this.chunks = []
        this.dropDecoder()
        this.settle()
      })
      decoder.on("end", () => {
        if (this.settled) return
        this.finish()
      })
    }
    decoder.write(chunk)
    return true
  }

  private dropDecoder(): void {
    const decoder = this.decoder
    if (decoder !== undefined) {
      this.decoder = undefined
      discardDecoder(decoder)
    }
  }

  private finish(): void {
    this.body = concat(this.chunks, this.size)
    this.chunks = []
    this.settle()
  }

  end(): void {
    if (this.settled) return
    // Decoding: the reader settles when the decoder has flushed what is left.
    if (this.decoder !== undefined) this.decoder.end()
    else this.finish()
  }

  fail(cause: unknown): void {
    if (this.settled) return
    this.settled = true
    this.failed = true
    this.cause = cause
    this.chunks = []
    this.dropDecoder()
    this.onSettled(this)
  }

  /** Past the limit: keep what was read up to it and settle; the transport drops the connection. */
  private stop(): false {
    this.truncated = true
    this.body = concat(this.chunks, Math.min(this.size, this.limit))
    this.chunks = []
    this.dropDecoder()
    this.settle()
    return false
  }

  protected settle(): true {
    this.settled = true
    this.onSettled(this)
    return true
  }
}
