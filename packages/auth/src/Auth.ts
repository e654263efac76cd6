/**
 * Auth policies for the ApiClient `auth` slot, and the rule they share: stamp
 * the credential on every attempt; on a 401, if the credential can be renewed
 * and the request body can be sent again, renew it and replay the request
 * exactly once. A second 401 is returned as `Unauthorized`, never looped.
 *
 * Static kinds live here (API key, Bearer, Basic); OAuth 2.0 and JWT kinds are
 * in `OAuth2` and `Jwt` and are built on {@link fromCredential}.
 *
 * @since 0.1.0
 */
import type { AuthError, ReauthorizationRequired, Timeout } from "@apikit/http/ApiError"
import * as Policy from "@apikit/http/Policy"
import * as Redaction from "@apikit/http/Redaction"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"

/**
 * A source of credentials for {@link fromCredential}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credential {
  /**
   * The credential key, for logs and errors (never the secret). For a
   * renewable credential it also names the principal: caches scope stored
   * responses by it (static credentials by a fingerprint of the secret).
   */
  readonly key: string
  /** The current credential, cached or obtained. */
  readonly get: Effect.Effect<Redacted.Redacted<string>, AuthError | ReauthorizationRequired>
  /**
   * After the server rejected `rejected` with a 401: a new credential. Absent
   * for static credentials, which a retry cannot fix.
   */
  readonly renew?:
    | ((rejected: Redacted.Redacted<string>) => Effect.Effect<
      Redacted.Redacted<string>,
      AuthError | ReauthorizationRequired
    >)
    | undefined
  /**
   * `get` for one call: whatever part may be slow (a token request; never the
   * cache hit) is bounded by the call's deadline with `Policy.withinDeadline`.
   * With it (and `renewWithin` when `renew` is set) the policy honours
   * ApiClient's deadline, so the client needs no watcher fiber per call. The
   * OAuth 2.0 and JWT credentials provide both.
   */
  readonly getWithin?:
    | ((
      context: Policy.CallContext
    ) => Effect.Effect<Redacted.Redacted<string>, AuthError | ReauthorizationRequired | Timeout>)
    | undefined
  /** `renew` for one call, bounded by its deadline (see `getWithin`). */
  readonly renewWithin?:
    | ((
      rejected: Redacted.Redacted<string>,
      context: Policy.CallContext
    ) => Effect.Effect<Redacted.Redacted<string>, AuthError | ReauthorizationRequired | Timeout>)
    | undefined
}

/**
 * How a credential is put on a request.
 *
 * @since 0.1.0
 * @category models
 */
export type Stamp = (
  request: HttpClientRequest.HttpClientRequest,
  credential: Redacted.Redacted<string>
) => HttpClientRequest.HttpClientRequest

/**
 * Stamps `Authorization: Bearer <credential>`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const stampBearer: Stamp = (request, credential) =>
  HttpClientRequest.setHeader(request, "authorization", `Bearer ${Redacted.value(credential)}`)

/**
 * Makes an auth policy from a credential: stamps it on every attempt and, on a
 * 401 when the credential can be renewed and the body replayed, renews it and
 * replays the request once. The policy honours call deadlines when the
 * credential has `getWithin` (and `renewWithin` if it renews); without them
 * ApiClient keeps a watcher fiber for calls with a total timeout.
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Auth } from "@apikit/auth"
 * import { Effect, Redacted } from "effect"
 *
 * // A token kept in a secrets vault that rotates it (here: an environment variable).
 * const readFromVault: Effect.Effect<Redacted.Redacted<string>> = Effect.sync(() =>
 *   Redacted.make(process.env["ACME_TOKEN"] ?? "")
 * )
 * const policy = Auth.fromCredential("vault", {
 *   key: "vault:acme",
 *   get: readFromVault, // runs on every attempt: keep it cheap (cached)
 *   renew: () => readFromVault // after a 401, once
 * })
 */
export const fromCredential = (
  name: string,
  credential: Credential,
  stamp: Stamp = stampBearer
): Policy.AuthPolicy => {
  const { getWithin, renewWithin } = credential
  const bounded = getWithin !== undefined && (credential.renew === undefined || renewWithin !== undefined)
  return Policy.make("auth", name, (next) => (request, context) => {
    // With a deadline, a credential that has to be fetched is bounded by it.
    const within = bounded && context.deadline !== undefined
    return Effect.flatMap(within ? getWithin!(context) : credential.get, (token) => {
      const sent = next(stamp(request, token), context)
      const renew = credential.renew
      if (renew === undefined || !context.replayable) return sent
      return Effect.catchTag(
        sent,
        "Unauthorized",
        () =>
          Effect.logDebug("apikit auth: 401, renewing the credential and replaying once").pipe(
            Effect.annotateLogs({ key: credential.key, method: context.method, url: context.url }),
            Effect.zipRight(within ? renewWithin!(token, context) : renew(token)),
            Effect.flatMap((fresh) => next(stamp(request, fresh), context))
          )
      )
    })
  }, { honorsDeadline: bounded, identity: identityOf(name, credential) })
}

/**
 * Whose credential it is, for caches: a renewable credential (OAuth 2.0, JWT)
 * is one principal under its `key` while its tokens rotate; a static one is
 * told apart by a fingerprint of its secret. Computed once, on first use.
 */
const identityOf = (name: string, credential: Credential): Effect.Effect<string> => {
  let memo: string | undefined
  const compute = credential.renew !== undefined
    ? Redaction.fingerprint(`${name}\n${credential.key}`)
    : Effect.flatMap(credential.get, (secret) => Redaction.fingerprint(`${name}\n${Redacted.value(secret)}`))
  // A credential that cannot be read now gets an identity of its own for this call: nothing is shared.
  const unresolved = Effect.map(Random.next, (n) => `unresolved:${n}`)
  return Effect.suspend(() =>
    memo !== undefined ? Effect.succeed(memo) : Effect.matchEffect(compute, {
      onFailure: () => unresolved,
      onSuccess: (id) => {
        memo = id
        return Effect.succeed(id)
      }
    })
  )
}

const constant = (key: string, value: Redacted.Redacted<string>): Credential => {
  const get = Effect.succeed(value)
  return { key, get, getWithin: () => get }
}

/**
 * Where an API key goes: a header (e.g. `X-API-Key`) or a query parameter.
 *
 * @since 0.1.0
 * @category options
 */
export type ApiKeyOptions =
  | { readonly header: string; readonly value: Redacted.Redacted<string> }
  | { readonly query: string; readonly value: Redacted.Redacted<string> }

/**
 * An API key in a header or a query parameter. Query keys are added to the
 * request only (errors and logs show the URL without them).
 *
 * @since 0.1.0
 * @category constructors
 * @example
 * import { Auth } from "@apikit/auth"
 * import { Redacted } from "effect"
 *
 * const policy = Auth.apiKey({ header: "X-API-Key", value: Redacted.make("sk_live_...") })
 */
export const apiKey = (options: ApiKeyOptions): Policy.AuthPolicy =>
  "header" in options
    ? fromCredential(
      `apiKey(header ${options.header})`,
      constant(options.header, options.value),
      (request, value) => HttpClientRequest.setHeader(request, options.header, Redacted.value(value))
    )
    : fromCredential(
      `apiKey(query ${options.query})`,
      constant(options.query, options.value),
      (request, value) => HttpClientRequest.setUrlParam(request, options.query, Redacted.value(value))
    )

/**
 * A static Bearer token: `Authorization: Bearer <token>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bearer = (token: Redacted.Redacted<string>): Policy.AuthPolicy =>
  fromCredential("bearer", constant("bearer", token))

/**
 * HTTP Basic (RFC 7617, UTF-8): `Authorization: Basic base64(username:password)`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const basic = (options: {
  readonly username: string
  readonly password: Redacted.Redacted<string>
}): Policy.AuthPolicy =>
  fromCredential(
    "basic",
    constant(options.username, Redacted.make(`${options.username}:${Redacted.value(options.password)}`)),
    (request, pair) => HttpClientRequest.setHeader(request, "authorization", `Basic ${basicValue(pair)}`)
  )

// btoa (what the platform's basicAuth uses) cannot encode non-Latin-1 passwords; RFC 7617 says UTF-8.
const basicValue = (pair: Redacted.Redacted<string>) => Encoding.encodeBase64(Redacted.value(pair))

/**
 * Reads a secret with `Config.redacted`; a missing or empty variable is a
 * `ConfigError` that names the variable and never shows a value.
 *
 * @since 0.1.0
 * @category config
 */
export const secret = (name: string): Config.Config<Redacted.Redacted<string>> =>
  // Config.string, not Config.redacted: its errors name the variable ("Expected X to exist"),
  // where Config.redacted's say only "<redacted>". Neither ever includes the value.
  Config.string(name).pipe(
    Config.mapOrFail((value) =>
      value.trim().length > 0
        ? Either.right(Redacted.make(value))
        : Either.left(ConfigError.InvalidData([], `${name} is empty; set it to the secret value`))
    )
  )

/**
 * {@link apiKey} with the key read from the environment variable `variable`.
 *
 * @since 0.1.0
 * @category config
 * @example
 * import { Auth } from "@apikit/auth"
 * import { Effect } from "effect"
 *
 * import { ApiClient } from "@apikit/http"
 *
 * const acme = Effect.gen(function*() {
 *   return yield* ApiClient.make({
 *     baseUrl: "https://api.acme.test",
 *     // ConfigError "ACME_API_KEY ..." when the variable is missing or empty
 *     auth: yield* Auth.apiKeyConfig({ header: "X-API-Key", variable: "ACME_API_KEY" })
 *   })
 * })
 */
export const apiKeyConfig = (
  options: { readonly header: string; readonly variable: string } | {
    readonly query: string
    readonly variable: string
  }
): Config.Config<Policy.AuthPolicy> =>
  Config.map(
    secret(options.variable),
    (value) => "header" in options ? apiKey({ header: options.header, value }) : apiKey({ query: options.query, value })
  )

/**
 * {@link bearer} with the token read from the environment variable `variable`.
 *
 * @since 0.1.0
 * @category config
 */
export const bearerConfig = (variable: string): Config.Config<Policy.AuthPolicy> => Config.map(secret(variable), bearer)

/**
 * {@link basic} with the username and password read from environment variables.
 *
 * @since 0.1.0
 * @category config
 */
export const basicConfig = (
  variables: { readonly username: string; readonly password: string }
): Config.Config<Policy.AuthPolicy> =>
  Config.map(
    Config.all({ username: Config.nonEmptyString(variables.username), password: secret(variables.password) }),
    basic
  )
