/**
 * The Sandbox's public API described with `HttpApi`, so the Sandbox can serve
 * its own OpenAPI document (`GET /openapi.json`, made by `OpenApi.fromApi`):
 * what `apikit generate openapi` reads to build a typed client for it.
 *
 * @internal
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"

const Project = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  status: Schema.Literal("active", "archived"),
  created_at: Schema.String.annotations({ format: "date-time" } as any),
  updated_at: Schema.String
}).annotations({ identifier: "Project" })

const Problem = Schema.Struct({ message: Schema.String, code: Schema.optional(Schema.String) })
  .annotations({ identifier: "Problem" })
const Invalid = Schema.Struct({
  errors: Schema.Array(Schema.Struct({ field: Schema.String, message: Schema.String }))
}).annotations({ identifier: "Invalid" })

const NewProject = Schema.Struct({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  description: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(1000)))),
  status: Schema.optional(Schema.Literal("active", "archived"))
})

const ById = Schema.Struct({ id: Schema.String })

/** @internal */
export const Api = HttpApi.make("sandbox").add(
  HttpApiGroup.make("projects")
    .add(
      HttpApiEndpoint.get("list", "/v1/projects")
        .setUrlParams(Schema.Struct({
          cursor: Schema.optional(Schema.String),
          limit: Schema.optional(
            Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100)).annotations({
              jsonSchema: { type: "integer", minimum: 1, maximum: 100 }
            })
          )
        }))
        .addSuccess(Schema.Struct({ data: Schema.Array(Project), next_cursor: Schema.NullOr(Schema.String) }))
        .addError(Invalid, { status: 400 })
    )
    .add(
      HttpApiEndpoint.post("create", "/v1/projects")
        .setHeaders(Schema.Struct({ "Idempotency-Key": Schema.optional(Schema.String) }))
        .setPayload(NewProject)
        .addSuccess(Project, { status: 201 })
        .addError(Problem, { status: 409 })
        .addError(Invalid, { status: 422 })
    )
    .add(
      HttpApiEndpoint.get("get", "/v1/projects/:id").setPath(ById).addSuccess(Project).addError(Problem, {
        status: 404
      })
    )
    .add(
      HttpApiEndpoint.patch("update", "/v1/projects/:id")
        .setPath(ById)
        .setPayload(Schema.partial(NewProject))
        .addSuccess(Project)
        .addError(Problem, { status: 404 })
        .addError(Invalid, { status: 422 })
    )
    .add(
      HttpApiEndpoint.del("remove", "/v1/projects/:id").setPath(ById).addSuccess(Schema.Void, { status: 204 })
        .addError(Problem, { status: 404 })
    )
)

/** The OpenAPI document, with the Sandbox's two ways in: an API key, or OAuth 2.0 client credentials. @internal */
export const document = (baseUrl: string): unknown => {
  const spec = OpenApi.fromApi(Api) as any
  return {
    ...spec,
    info: { title: "apikit Sandbox", version: "1.0.0" },
    servers: [{ url: baseUrl }],
    components: {
      ...spec.components,
      securitySchemes: {
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        oauth: {
          type: "oauth2",
          flows: { clientCredentials: { tokenUrl: `${baseUrl}/oauth/token`, scopes: {} } }
        }
      }
    },
    security: [{ apiKey: [] }, { oauth: [] }]
  }
}
