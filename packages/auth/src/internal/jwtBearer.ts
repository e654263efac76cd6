import type { AuthError } from "@apikit/http/ApiError"
import type * as Policy from "@apikit/http/Policy"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Auth from "../Auth.js"
import * as Jwt from "../Jwt.js"
import type * as OAuth2 from "../OAuth2.js"
import { TokenStore } from "../TokenStore.js"
import * as Client from "./oauth2Client.js"
import * as TokenCache from "./tokenCache.js"
import * as TokenEndpoint from "./tokenEndpoint.js"

/** The JWT-bearer grant (RFC 7523 §2.1), documented at `OAuth2.jwtBearer`. */
export const make = (
  options: OAuth2.JwtBearerOptions
): Effect.Effect<Policy.AuthPolicy, AuthError, HttpClient.HttpClient | TokenStore> =>
  Effect.gen(function*() {
    const scope = Client.scopeParam(options.scope)
    const key = options.key ??
      Client.cacheKey(`oauth2-jwt-bearer:${options.tokenUrl}#${options.issuer}`, {
        subject: options.subject,
        audience: options.audience,
        scope
      })
    yield* Client.resolveClient(key, { tokenUrl: options.tokenUrl, clientId: options.issuer })
    const store = yield* TokenStore
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const lifetime = Duration.decode(options.assertionLifetime ?? "5 minutes")
    const cache = TokenCache.make({
      key,
      store,
      margin: options.refreshMargin ?? TokenCache.defaultMargin,
      expireEntry: true,
      fetch: () =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const iat = Math.floor(now / 1000)
          const assertion = yield* signAssertion(key, options, iat, lifetime)
          return yield* TokenEndpoint.request({
            key,
            tokenUrl: options.tokenUrl,
            clientAuth: undefined,
            timeout: Client.timeoutOf(options),
            retryable: true,
            params: { grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion, scope }
          })
        }).pipe(Effect.provide(context))
    })
    return Auth.fromCredential(`oauth2.jwtBearer(${options.issuer})`, TokenCache.credential(key, cache))
  })

const signAssertion = (key: string, options: OAuth2.JwtBearerOptions, iat: number, lifetime: Duration.Duration) =>
  Effect.flatMap(Jwt.jti, (jti) =>
    Jwt.sign(key, options.signingKey, {
      ...options.claims,
      iss: options.issuer,
      sub: options.subject ?? options.issuer,
      aud: options.audience ?? options.tokenUrl,
      jti,
      iat,
      exp: iat + Math.floor(Duration.toSeconds(lifetime))
    }))
