/**
 * `apikit generate openapi <file or URL> --out <dir>`: writes a typed apikit
 * module (Schemas, HttpApi, client, auth, pagination, webhooks, mocks) from an
 * OpenAPI document, and reports what was left out and why.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"

const openapi = Command.make("openapi", {
  source: Args.text({ name: "file or URL" }).pipe(Args.withDescription("the OpenAPI document (JSON or YAML)")),
  out: Options.text("out").pipe(Options.withDescription("the directory to write the module to")),
  name: Options.text("name").pipe(
    Options.optional,
    Options.withDescription("the API's name (the HttpApi id, the prefix of environment variables)")
  ),
  include: Options.text("include").pipe(
    Options.repeated,
    Options.withDescription("keep operations whose tag, path or operationId matches (repeatable, * wildcards)")
  ),
  overlay: Options.text("overlay").pipe(
    Options.repeated,
    Options.withDescription(
      "an OpenAPI Overlay 1.0 file or URL (JSON or YAML) applied to the document first, for fixes (repeatable, in order)"
    )
  ),
  patch: Options.text("patch").pipe(
    Options.optional,
    Options.withDescription("a JSON Patch (RFC 6902) file applied to the document after the overlays, for fixes")
  ),
  int64: Options.choice("int64", ["number", "bigint"]).pipe(
    Options.withDefault("number" as const),
    Options.withDescription(
      "how format: int64 maps: number (exact up to 2^53, as other generators do) or bigint (exact from strings)"
    )
  ),
  idempotency: Options.choice("idempotency", ["declared", "unsafe", "none"]).pipe(
    Options.withDefault("declared" as const),
    Options.withDescription(
      "which POST/PATCH operations send an Idempotency-Key: those that declare the header, all, or none"
    )
  )
}, (args) =>
  // Loaded on use: the generator pulls in the OpenAPI parser.
  Effect.flatMap(Effect.promise(() => import("./generate/openapi.js")), (body) => body.run(args))).pipe(
    Command.withDescription("Generate a typed apikit module from an OpenAPI document (3.0, 3.1, or Swagger 2.0).")
  )

/**
 * `apikit generate openapi ...`.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("generate").pipe(
  Command.withDescription("Generate code for an integration."),
  Command.withSubcommands([openapi])
)
