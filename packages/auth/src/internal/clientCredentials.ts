import type { AuthError } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Auth from "../Auth.js"
import type * as OAuth2 from "../OAuth2.js"
import { TokenStore } from "../TokenStore.js"
import * as Client from "./oauth2Client.js"
import * as TokenCache from "./tokenCache.js"
import * as TokenEndpoint from "./tokenEndpoint.js"

/** The client-credentials grant (RFC 6749 §4.4), documented at `OAuth2.clientCredentials`. */
export const make = (
  options: OAuth2.ClientCredentialsOptions
): Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const scope = Client.scopeParam(options.scope)
    // Tokens for another scope, audience or resource are other tokens: they must not share a cache entry.
    const resourceKey = options.resource === undefined ? undefined : [options.resource].flat().join(" ")
    const key = options.key ??
      Client.cacheKey(`oauth2:${options.tokenUrl}#${options.clientId}`, {
        scope,
        audience: options.audience,
        resource: resourceKey
      })
    const clientAuth = yield* Client.resolveClient(key, options)
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const resources = options.resource === undefined ?
      [] :
      typeof options.resource === "string" ?
      [options.resource] :
      options.resource
    const cache = TokenCache.make({
      key,
      store,
      margin: options.refreshMargin ?? TokenCache.defaultMargin,
      expireEntry: true,
      fetch: () =>
        TokenEndpoint.request({
          key,
          tokenUrl: options.tokenUrl,
          clientAuth,
          timeout: Client.timeoutOf(options),
          retryable: true,
          params: {
            grant_type: "client_credentials",
            scope,
            audience: options.audience,
            ...options.extraParams,
            resource: resources
          }
        }).pipe(Effect.provide(context))
    })
    return Auth.fromCredential(`oauth2.clientCredentials(${options.clientId})`, TokenCache.credential(key, cache))
  })
