/**
 * The reader of a streamed response (`ApiClient.stream`): like {@link Reader}
 * until the head of a 2xx arrives (an error body is still read into memory,
 * bounded, for the error), then it settles at once, so the policies see the
 * response before its first body byte, and hands the body to one consumer
 * chunk by chunk instead of keeping it.
 *
 * Memory stays bounded whatever the body's size: when more than
 * {@link highWaterMark} bytes wait for the consumer, the transport is paused
 * (undici stops reading the socket; the generic transport stops pulling the
 * platform's body stream), and resumed when the consumer has taken them. A
 * `content-encoding` is undone on the way, with the decoder's own buffers
 * counted as waiting bytes, so a decompression bomb is read no faster than it
 * is consumed.
 *
 * @internal
 */
import type * as Zlib from "node:zlib"
import { decoderFor, discardDecoder, Reader } from "./body.js"
import type { Exchange } from "./transport.js"

/** Where a call context of `ApiClient.stream` keeps the scope its streamed bodies belong to. @internal */
export const streamScope: unique symbol = Symbol.for("@apikit/http/streamScope")

/** Bytes waiting for the consumer above which the transport is paused. @internal */
export const highWaterMark = 256 * 1024

/** How a streamed body ended early: the exchange failed, or its content-encoding did not decode. @internal */
export type Failure =
  | { readonly _tag: "Transport"; readonly cause: unknown }
  | { readonly _tag: "Encoding"; readonly detail: string }

/** What the consumer gets for one `take`: a chunk, the end, or a failure. @internal */
export type Take =
  | { readonly _tag: "Chunk"; readonly chunk: Uint8Array }
  | { readonly _tag: "End" }
  | { readonly _tag: "Failure"; readonly failure: Failure }

const end: Take = { _tag: "End" }

/** @internal */
export class StreamReader extends Reader {
  private exchange: Exchange | undefined = undefined
  private transportPaused = false
  private pending: Array<Uint8Array> = []
  private waitingBytes = 0
  private bodyDone = false
  private failure: Failure | undefined = undefined
  private closed = false
  private waiter: ((take: Take) => void) | undefined = undefined
  private streamDecoder: Zlib.Gunzip | undefined = undefined

  constructor(method: string, errorLimit: number, onSettled: (reader: Reader) => void) {
    super(method, Number.POSITIVE_INFINITY, errorLimit, onSettled)
  }

  /** The started exchange, to pause, resume and abort. */
  attach(exchange: Exchange): void {
    this.exchange = exchange
    if (this.closed) exchange.abort()
    else if (this.transportPaused) exchange.pause()
  }

  override head(status: number, headers: Parameters<Reader["head"]>[1], decoded: boolean): boolean {
    const more = super.head(status, headers, decoded)
    // No body (204, HEAD, an empty one), a coding apikit cannot undo, or a non-2xx read as usual.
    if (this.settled) {
      this.bodyDone = true
      return more
    }
    if (!this.ok) return more
    this.streaming = true
    this.settle()
    return true
  }

  override data(chunk: Uint8Array): boolean {
    if (!this.streaming) return super.data(chunk)
    if (this.closed || this.bodyDone) return false
    if (this.encoding !== undefined) {
      const decoder = this.decoderOf(chunk)
      if (!decoder.write(chunk)) this.pauseTransport()
    } else {
      this.push(chunk)
    }
    return true
  }

  override end(): void {
    if (!this.streaming) return super.end()
    if (this.bodyDone) return
    if (this.streamDecoder !== undefined) this.streamDecoder.end()
    else this.finishBody(end)
  }

  override fail(cause: unknown): void {
    if (!this.streaming) return super.fail(cause)
    if (this.bodyDone) return
    this.finishBody({ _tag: "Failure", failure: { _tag: "Transport", cause } })
  }

  /**
   * The next chunk, the end or the failure, given to `callback` once (at once
   * when there is one waiting). One take at a time.
   */
  take(callback: (take: Take) => void): void {
    const chunk = this.pending.shift()
    if (chunk !== undefined) {
      this.waitingBytes -= chunk.length
      this.maybeResume()
      return callback({ _tag: "Chunk", chunk })
    }
    if (this.bodyDone) return callback(this.failure === undefined ? end : { _tag: "Failure", failure: this.failure })
    this.waiter = callback
  }

  /** A take that has not been answered is no longer wanted (its consumer was interrupted). */
  cancelTake(): void {
    this.waiter = undefined
  }

  /** The consumer is done (or gone): an unfinished body is abandoned and its connection closed. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.waiter = undefined
    this.pending = []
    this.dropStreamDecoder()
    if (!this.bodyDone) {
      this.bodyDone = true
      this.exchange?.abort()
    }
  }

  private decoderOf(first: Uint8Array): Zlib.Gunzip {
    let decoder = this.streamDecoder
    if (decoder !== undefined) return decoder
    decoder = this.streamDecoder = decoderFor(this.encoding!, first)!
    decoder.on("data", (out: Uint8Array) => this.push(out))
    decoder.on("drain", () => this.maybeResume())
    decoder.on("error", (e: Error) => {
      this.dropStreamDecoder()
      this.exchange?.abort()
      this.finishBody({
        _tag: "Failure",
        failure: { _tag: "Encoding", detail: `${this.encoding}: ${e.message}` }
      })
    })
    decoder.on("end", () => this.finishBody(end))
    return decoder
  }

  private dropStreamDecoder(): void {
    const decoder = this.streamDecoder
    if (decoder !== undefined) {
      this.streamDecoder = undefined
      discardDecoder(decoder)
    }
  }

  private push(chunk: Uint8Array): void {
    if (this.closed || chunk.length === 0) return
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      return waiter({ _tag: "Chunk", chunk })
    }
    this.pending.push(chunk)
    this.waitingBytes += chunk.length
    if (this.waitingBytes > highWaterMark) {
      // The decoder keeps its output until resumed (and its input then fills up, pausing the transport).
      this.streamDecoder?.pause()
      this.pauseTransport()
    }
  }

  private finishBody(last: Take): void {
    if (this.bodyDone) return
    this.bodyDone = true
    if (last._tag === "Failure") this.failure = last.failure
    this.streamDecoder = undefined
    const waiter = this.waiter
    if (waiter !== undefined && this.pending.length === 0) {
      this.waiter = undefined
      waiter(last)
    }
  }

  private pauseTransport(): void {
    if (this.transportPaused) return
    this.transportPaused = true
    this.exchange?.pause()
  }

  private maybeResume(): void {
    if (this.waitingBytes > highWaterMark / 2) return
    const decoder = this.streamDecoder
    if (decoder !== undefined) {
      if (decoder.isPaused()) decoder.resume()
      if (decoder.writableNeedDrain) return
    }
    if (!this.transportPaused) return
    this.transportPaused = false
    this.exchange?.resume()
  }
}
