/**
 * The body of `apikit generate openapi`, loaded only when the command runs.
 *
 * @internal
 */
import * as Document from "@apikit/openapi/Document"
import * as Generate from "@apikit/openapi/Generate"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { ExitCode } from "../WebhooksCommand.js"

/** The parsed flags. @internal */
export interface Args {
  readonly source: string
  readonly out: string
  readonly name: Option.Option<string>
  readonly include: ReadonlyArray<string>
  readonly overlay: ReadonlyArray<string>
  readonly patch: Option.Option<string>
  readonly idempotency: "declared" | "unsafe" | "none"
  readonly int64: "number" | "bigint"
}

const failWith = (code: number, message: string) =>
  Effect.zipRight(Console.error(message), Effect.fail(new ExitCode({ code })))

/** The name from the document's file name: `api.github.com.json` → `github`. */
const defaultName = (source: string) => {
  const base = source.split(/[/\\]/).pop()!.replace(/\.(json|ya?ml)$/i, "")
  const parts = base.split(".").filter((p) => !["api", "com", "org", "io", "net", "openapi", "swagger"].includes(p))
  return parts[0] ?? "api"
}

/** @internal */
export const run = (args: Args) =>
  Effect.gen(function*() {
    const patchFile = Option.getOrUndefined(args.patch)
    const patch = patchFile !== undefined
      ? yield* Effect.try({
        try: () => JSON.parse(readFileSync(patchFile, "utf8")) as Array<Document.PatchOperation>,
        catch: (cause) => `cannot read the patch ${patchFile}: ${String(cause)}`
      }).pipe(Effect.catchAll((message) => failWith(2, message)))
      : undefined
    const started = performance.now()
    // The user named this document, local servers included.
    const doc = yield* Document.load(args.source, { overlays: args.overlay, patch, allowInternalUrls: true }).pipe(
      Effect.catchTag("DocumentError", (e) => failWith(1, e.message))
    )
    const output = yield* Generate.generate(doc, {
      name: Option.getOrElse(args.name, () => defaultName(args.source)),
      include: args.include.length > 0 ? args.include.flatMap((i) => i.split(",")) : undefined,
      idempotency: args.idempotency,
      int64: args.int64
    })
    let bytes = 0
    yield* Effect.try({
      try: () => {
        for (const file of output.files) {
          const path = join(args.out, file.path)
          mkdirSync(dirname(path), { recursive: true })
          writeFileSync(path, file.content)
          bytes += Buffer.byteLength(file.content)
        }
        writeFileSync(
          join(args.out, "GENERATED.md"),
          `# Generation report\n\n\`\`\`\n${Generate.report(output)}\n\`\`\`\n`
        )
      },
      catch: (cause) => `cannot write to ${args.out}: ${String(cause)}`
    }).pipe(Effect.catchAll((message) => failWith(1, message)))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    yield* Console.log(
      `wrote ${output.files.length} files (${(bytes / 1024).toFixed(0)} KiB) to ${args.out} in ${seconds} s`
    )
    yield* Console.log(Generate.report(output).split("\n").slice(0, 30).join("\n"))
    if (output.skipped.length + output.notes.length > 28) {
      yield* Console.log(`... the whole report is in ${join(args.out, "GENERATED.md")}`)
    }
  })
