import { ReauthorizationRequired } from "@apikit/http/ApiError"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { StoredToken, type TokenStore } from "../TokenStore.js"
import * as TokenEndpoint from "./tokenEndpoint.js"

/**
 * The refresh-token grant (RFC 6749 §6) with rotation, as the `fetch` of a
 * connection's token cache: a new refresh token from the server replaces the
 * stored one, and the old one is kept only when none comes back;
 * `invalid_grant` forgets the tokens and fails with `ReauthorizationRequired`.
 */
export const make = (options: {
  readonly key: string
  readonly tokenUrl: string
  readonly clientAuth: TokenEndpoint.ClientAuth
  readonly timeout: Duration.Duration
  readonly store: Context.Tag.Service<TokenStore>
  readonly context: Context.Context<HttpClient.HttpClient>
}) =>
(current: Option.Option<StoredToken>) => {
  const { key, store } = options
  if (Option.isNone(current)) {
    return Effect.fail(new ReauthorizationRequired({ key, description: "no tokens are stored for it" }))
  }
  const old = current.value
  if (old.refreshToken === undefined) {
    return Effect.fail(
      new ReauthorizationRequired({ key, description: "the access token expired and there is no refresh token" })
    )
  }
  return TokenEndpoint.request({
    key,
    tokenUrl: options.tokenUrl,
    clientAuth: options.clientAuth,
    timeout: options.timeout,
    retryable: true,
    params: { grant_type: "refresh_token", refresh_token: old.refreshToken }
  }).pipe(
    Effect.provide(options.context),
    // Rotation: a returned refresh token replaces the old one, which the server may already
    // have revoked; keeping the old one is right only when none came back.
    Effect.map((next) =>
      next.refreshToken !== undefined ? next : new StoredToken({ ...next, refreshToken: old.refreshToken })
    ),
    Effect.catchIf(
      (e) => e.error === "invalid_grant",
      (e) =>
        Effect.zipRight(
          Effect.ignore(store.delete(key)),
          Effect.fail(
            new ReauthorizationRequired({
              key,
              description: e.description ?? "the refresh token was rejected (invalid_grant)"
            })
          )
        )
    )
  )
}
