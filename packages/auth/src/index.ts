/**
 * @apikit/auth: credentials for the ApiClient `auth` slot (API key, Bearer,
 * Basic, OAuth 2.0 client credentials / authorization code + PKCE / refresh /
 * JWT bearer, signed JWTs) and the TokenStore that caches tokens.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category modules
 */
export * as Auth from "./Auth.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Jwt from "./Jwt.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as OAuth2 from "./OAuth2.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as Pkce from "./Pkce.js"

/**
 * @since 0.1.0
 * @category modules
 */
export * as TokenStore from "./TokenStore.js"
