/**
 * The mapping on small handwritten document fragments: each construct's Schema, and that the
 * module generated for it compiles under the project's strict settings.
 */
import { ApiClient } from "@apikit/http"
import { Document, Generate } from "@apikit/openapi"
import { type HttpBody, HttpClient, type HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Schema } from "effect"
import { join } from "node:path"
import { typecheck, write } from "./support/typecheck.js"

const load = (document: Record<string, unknown>) =>
  Document.load("fragment.json", {
    document: { openapi: "3.0.3", info: { title: "Fragment", version: "1" }, ...document }
  })

const file = (output: Generate.Output, path: string) => output.files.find((f) => f.path === path)!.content

const rateLimit = {
  paths: {
    "/rate_limit": {
      get: {
        operationId: "rate-limit/get",
        tags: ["rate-limit"],
        responses: {
          "200": {
            description: "ok",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Overview" } } }
          },
          "404": {
            description: "no",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Problem" } } }
          }
        }
      }
    }
  },
  components: {
    schemas: {
      Overview: { type: "object", required: ["limit"], properties: { limit: { type: "integer" } } },
      Problem: { type: "object", properties: { message: { type: "string" } } }
    }
  }
}

describe("imports", () => {
  // GitHub's `rate-limit` tag: its one operation names only components, so its group file used no
  // `Schema.` of its own, and the document has no paginated operation in that subset: both made
  // imports `noUnusedLocals` rejects (the one tsc error of `pnpm bench openapi` on GitHub's document).
  it.effect("a group that only names components, and a module with nothing paginated", () =>
    Effect.gen(function*() {
      const doc = yield* load(rateLimit)
      const output = yield* Generate.generate(doc, { name: "fragment" })
      expect(output.paginated).toBe(0)
      expect(file(output, "groups/rateLimit.ts")).not.toMatch(/Schema\.(Struct|String|Number|Int)/)
    }), 120_000)
})

const schemasModule = (output: Generate.Output) => file(output, "schemas.ts")

const pets = {
  paths: {
    "/pets/{id}": {
      get: {
        operationId: "pets/get",
        tags: ["pets"],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "integer", format: "int64" } }],
        responses: {
          "200": {
            description: "ok",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Pet" } } }
          }
        }
      }
    },
    "/pets": {
      put: {
        operationId: "pets/tag",
        tags: ["pets"],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["tags"],
                properties: { tags: { type: "array", uniqueItems: true, items: { type: "string" } } }
              }
            }
          }
        },
        responses: { "204": { description: "tagged" } }
      }
    }
  },
  components: {
    schemas: {
      Pet: {
        oneOf: [{ $ref: "#/components/schemas/Cat" }, { $ref: "#/components/schemas/Dog" }],
        discriminator: {
          propertyName: "kind",
          mapping: { cat: "#/components/schemas/Cat", puppy: "Dog", dog: "Dog" }
        }
      },
      Cat: {
        type: "object",
        required: ["kind", "name"],
        properties: {
          kind: { type: "string" },
          name: { type: "string" },
          lives: { type: "integer", format: "int64" }
        }
      },
      Dog: {
        type: "object",
        required: ["kind", "name"],
        properties: {
          kind: { type: "string" },
          name: { type: "string" },
          friends: { type: "array", uniqueItems: true, items: { $ref: "#/components/schemas/Cat" } }
        }
      }
    }
  }
}

describe("the Schema mapping", () => {
  it.effect(
    "a discriminator narrows each member's property, so decoding picks the member by its value",
    () =>
      Effect.gen(function*() {
        const output = yield* Generate.generate(yield* load(pets), { name: "pets" })
        const schemas = schemasModule(output)
        expect(schemas).toContain(
          `Schema.extend(Cat.pipe(Schema.omit("kind")), Schema.Struct({ kind: Schema.Literal("cat") }))`
        )
        expect(schemas).toContain(`Schema.Struct({ kind: Schema.Literal("puppy", "dog") })`)
        const dir = write(output, "fragment-pets")
        const { Schemas } = yield* Effect.promise(() => import(join(dir, "index.ts")))
        const decode = Schema.decodeUnknownEither(Schemas.Pet as Schema.Schema<unknown, unknown>)
        // A plain union would take the first member both have the shape of (Cat).
        const puppy = decode({ kind: "puppy", name: "Rex" })
        expect(Either.isRight(puppy)).toBe(true)
        expect(Either.isLeft(decode({ kind: "cow", name: "Daisy" }))).toBe(true)
        // A dog with a cat's field is a Dog (which drops the field), not the first member that fits.
        expect(decode({ kind: "dog", name: "Rex", lives: 3 })).toEqual(Either.right({ kind: "dog", name: "Rex" }))
        const encodedCat = Schema.encodeSync(Schemas.Pet as Schema.Schema<unknown, unknown>)({
          kind: "cat",
          name: "Tom"
        })
        expect(encodedCat).toEqual({ kind: "cat", name: "Tom" })
        // The Type is a union tagged by `kind`: checked by the compiler in the last test.

        // A discriminator property that is not a string cannot take the mapping's values: left as it is.
        const numeric = yield* Generate.generate(
          yield* load({
            components: {
              schemas: {
                ...pets.components.schemas,
                Cat: { ...pets.components.schemas.Cat, properties: { kind: { type: "integer" } } }
              }
            },
            paths: pets.paths
          }),
          { name: "pets" }
        )
        expect(schemasModule(numeric)).toContain(`Schema.Union(Cat, Schema.extend(Dog.pipe(`)
        expect(numeric.notes).toEqual([
          "components.schemas.Pet: discriminator kind of Cat is not a string; tried in order"
        ])
      }),
    60_000
  )

  it.effect(
    "uniqueItems is a filter: repeated items (scalars or objects) fail to decode",
    () =>
      Effect.gen(function*() {
        const output = yield* Generate.generate(yield* load(pets), { name: "pets" })
        const dir = write(output, "fragment-unique")
        const { Schemas } = yield* Effect.promise(() => import(join(dir, "index.ts")))
        const group = yield* Effect.promise(() => import(join(dir, "groups/pets.ts")))
        const tags = Schema.decodeUnknownEither(group.tag.payloadSchema.value as Schema.Schema<unknown, unknown>)
        expect(Either.isRight(tags({ tags: ["a", "b"] }))).toBe(true)
        const repeated = tags({ tags: ["a", "a"] })
        expect(Either.isLeft(repeated) && String(repeated.left)).toContain("the items must be unique")
        const dog = Schema.decodeUnknownEither(Schemas.Dog as Schema.Schema<unknown, unknown>)
        const tom = { kind: "cat", name: "Tom" }
        expect(Either.isRight(dog({ kind: "dog", name: "Rex", friends: [tom, { ...tom, name: "Felix" }] }))).toBe(true)
        expect(Either.isLeft(dog({ kind: "dog", name: "Rex", friends: [tom, { ...tom }] }))).toBe(true)
      }),
    60_000
  )

  it.effect(
    "int64 is a number by default; with int64: bigint, exact from strings and numbers",
    () =>
      Effect.gen(function*() {
        const byDefault = yield* Generate.generate(yield* load(pets), { name: "pets" })
        expect(schemasModule(byDefault)).toContain("lives: Schema.optional(Schema.Int)")
        const output = yield* Generate.generate(yield* load(pets), { name: "pets", int64: "bigint" })
        expect(schemasModule(output)).toContain(
          "lives: Schema.optional(Schema.Union(Schema.BigIntFromNumber, Schema.BigInt))"
        )
        expect(schemasModule(output)).toContain("export interface CatEncoded")
        const dir = write(output, "fragment-int64")
        const { Schemas } = yield* Effect.promise(() => import(join(dir, "index.ts")))
        const cat = Schema.decodeUnknownSync(Schemas.Cat as Schema.Schema<{ lives?: bigint }, unknown>)
        expect(cat({ kind: "cat", name: "Tom", lives: "9007199254740993" }).lives).toBe(9007199254740993n)
        expect(cat({ kind: "cat", name: "Tom", lives: 9 }).lives).toBe(9n)
        const encode = Schema.encodeSync(Schemas.Cat as Schema.Schema<unknown, unknown>)
        expect(encode({ kind: "cat", name: "Tom", lives: 9n })).toEqual({ kind: "cat", name: "Tom", lives: 9 })
        expect(encode({ kind: "cat", name: "Tom", lives: 9007199254740993n })).toMatchObject({
          lives: "9007199254740993"
        })
        const group = file(output, "groups/pets.ts")
        expect(group).toContain("id: Schema.BigInt")
      }),
    60_000
  )

  it.effect(
    "with all of the above, the Type is the union tagged by the discriminator",
    () =>
      Effect.gen(function*() {
        const output = yield* Generate.generate(yield* load(pets), { name: "pets", int64: "bigint" })
        expect(output.notes).toEqual([])
        expect(schemasModule(output)).toContain(
          `export type Pet = (Omit<Cat, "kind"> & { readonly kind: "cat" }) | (Omit<Dog, "kind"> & { readonly kind: "puppy" | "dog" })`
        )
      }),
    120_000
  )
})

const files = {
  paths: {
    "/files": {
      post: {
        operationId: "files/upload",
        tags: ["files"],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["file", "purpose"],
                properties: {
                  file: { type: "string", format: "binary" },
                  purpose: { type: "string", enum: ["avatar", "export"] },
                  labels: { type: "array", items: { type: "string" } }
                }
              }
            }
          }
        },
        responses: {
          "200": {
            description: "ok",
            content: { "application/json": { schema: { type: "object", properties: { id: { type: "string" } } } } }
          }
        }
      }
    },
    "/files/{id}/content": {
      put: {
        operationId: "files/put-content",
        tags: ["files"],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        requestBody: {
          required: true,
          content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } }
        },
        responses: { "204": { description: "stored" } }
      },
      get: {
        operationId: "files/get-content",
        tags: ["files"],
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": {
            description: "the file",
            content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } }
          }
        }
      }
    },
    "/markdown/raw": {
      post: {
        operationId: "markdown/render-raw",
        tags: ["markdown"],
        requestBody: {
          content: { "text/plain": { schema: { type: "string" } }, "text/x-markdown": { schema: { type: "string" } } }
        },
        responses: { "200": { description: "html", content: { "text/html": { schema: { type: "string" } } } } }
      }
    },
    "/reports": {
      post: {
        operationId: "reports/create",
        tags: ["reports"],
        requestBody: {
          required: true,
          content: { "application/xml": { schema: { type: "object", properties: { title: { type: "string" } } } } }
        },
        responses: { "201": { description: "created" } }
      }
    }
  }
}

describe("request bodies other than JSON and forms", () => {
  it.effect(
    "multipart (typed fields, Blob files), bytes and text are sent as such; the rest is skipped and said why",
    () =>
      Effect.gen(function*() {
        const output = yield* Generate.generate(yield* load(files), { name: "files" })
        expect(output.endpoints).toBe(4)
        expect(output.skipped).toEqual([{
          where: "POST /reports (reports.create)",
          reason:
            "request body is application/xml, not JSON, a form, a multipart form of fields, text or bytes (what the Endpoints client sends)"
        }])
        const dir = write(output, "fragment-files")
        const generated = yield* Effect.promise(() => import(join(dir, "index.ts")))
        const sent: Array<HttpClientRequest.HttpClientRequest> = []
        const capture = Layer.succeed(
          HttpClient.HttpClient,
          HttpClient.make((request) => {
            sent.push(request)
            const json = request.url.endsWith("/files")
            if (request.method === "GET") {
              return Effect.succeed(HttpClientResponse.fromWeb(
                request,
                new Response(new Uint8Array([0, 255, 0x89, 0x50]), {
                  status: 200,
                  headers: { "content-type": "application/octet-stream" }
                })
              ))
            }
            return Effect.succeed(HttpClientResponse.fromWeb(
              request,
              new Response(request.method === "PUT" ? null : json ? `{"id":"f_1"}` : "<p>hi</p>", {
                status: request.method === "PUT" ? 204 : 200,
                headers: { "content-type": json ? "application/json" : "text/html" }
              })
            ))
          })
        )
        yield* Effect.gen(function*() {
          const client = generated.client(yield* ApiClient.make({ baseUrl: "https://files.test" })) as Record<
            string,
            Record<string, (request: unknown) => Effect.Effect<unknown, unknown>>
          >
          const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47])
          const uploaded = yield* client["files"]!["upload"]!({
            payload: { file: new Blob([png]), purpose: "avatar", labels: ["a", "b"] }
          })
          expect(uploaded).toEqual({ id: "f_1" })
          const form = (sent[0]!.body as HttpBody.FormData).formData
          expect([form.get("purpose"), form.getAll("labels")]).toEqual(["avatar", ["a", "b"]])
          expect(new Uint8Array(yield* Effect.promise(() => (form.get("file") as Blob).arrayBuffer()))).toEqual(png)
          yield* client["files"]!["putContent"]!({ path: { id: "f_1" }, payload: png })
          expect([sent[1]!.body._tag, (sent[1]!.body as HttpBody.Uint8Array).contentType]).toEqual([
            "Uint8Array",
            "application/octet-stream"
          ])
          // The answer is text/html: an operation whose success is not JSON gets the text.
          expect(yield* client["markdown"]!["renderRaw"]!({ payload: "**hi**" })).toBe("<p>hi</p>")
          const text = sent[2]!.body as HttpBody.Uint8Array
          expect([text.contentType, new TextDecoder().decode(text.body)]).toEqual(["text/plain", "**hi**"])
          // A file that is not a Blob is refused before anything is sent.
          const refused = yield* Effect.flip(client["files"]!["upload"]!({ payload: { file: "x", purpose: "avatar" } }))
          expect(refused).toMatchObject({ _tag: "InvalidRequest", reason: "InvalidBody" })
          expect(sent.length).toBe(3)
          // A binary answer comes back as its bytes (Schema.Uint8ArrayFromSelf), not as text.
          const content = yield* client["files"]!["getContent"]!({ path: { id: "f_1" } })
          expect(content).toEqual(new Uint8Array([0, 255, 0x89, 0x50]))
        }).pipe(Effect.provide(capture))
      }),
    120_000
  )
})

describe("the modules generated for the fragments compile", () => {
  // One program for all of them: type-checking Effect's and apikit's types once is most of the time.
  it.effect("under the project's strict settings", () =>
    Effect.gen(function*() {
      const modules = [
        [yield* Generate.generate(yield* load(rateLimit), { name: "fragment" }), "fragment-unused-imports"],
        [yield* Generate.generate(yield* load(pets), { name: "pets", int64: "bigint" }), "fragment-pets-typecheck"],
        [yield* Generate.generate(yield* load(files), { name: "files" }), "fragment-files-typecheck"]
      ] as const
      expect(typecheck(modules)).toEqual([])
    }), 120_000)
})
