/**
 * Standard input as a service, so the CLI can read a webhook body byte for
 * byte from a pipe and tests can hand it bytes directly.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The bytes piped into the process, or `undefined` when stdin is a terminal (nothing was piped).
 *
 * @since 0.1.0
 * @category services
 */
export class Stdin extends Context.Tag("@apikit/cli/Stdin")<Stdin, {
  readonly read: Effect.Effect<Uint8Array | undefined>
}>() {
  /**
   * Reads `process.stdin` to its end, once.
   *
   * @since 0.1.0
   */
  static readonly layer: Layer.Layer<Stdin> = Layer.sync(Stdin, () => ({
    read: Effect.async<Uint8Array | undefined>((resume) => {
      const stdin = process.stdin
      if (stdin.isTTY) return resume(Effect.succeed(undefined))
      const chunks: Array<Buffer> = []
      stdin.on("data", (chunk: Buffer) => chunks.push(chunk))
      stdin.once("end", () => resume(Effect.succeed(Buffer.concat(chunks))))
      stdin.once("error", () => resume(Effect.succeed(Buffer.concat(chunks))))
    })
  }))

  /**
   * Stdin with fixed content (`undefined`: a terminal), for tests.
   *
   * @since 0.1.0
   */
  static readonly layerTest = (bytes: Uint8Array | string | undefined): Layer.Layer<Stdin> =>
    Layer.succeed(Stdin, {
      read: Effect.succeed(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes)
    })
}
