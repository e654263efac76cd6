/** Identifiers for generated code: stable, valid, and never a name the generated code itself uses. */

const reserved = new Set([
  "Array",
  "Boolean",
  "Date",
  "Error",
  "Function",
  "JSON",
  "Map",
  "Math",
  "Number",
  "Object",
  "Partial",
  "Promise",
  "Readonly",
  "Record",
  "Schema",
  "Set",
  "String",
  "Symbol",
  "Uint8Array",
  "Effect",
  "Stream",
  "Config",
  "HttpApi",
  "HttpApiGroup",
  "HttpApiEndpoint",
  "HttpApiSchema",
  "Endpoints",
  "Paginate",
  "ApiClient",
  "Auth",
  "OAuth2",
  "Mocks"
])

const keywords = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "as implements interface let package private protected public static yield any boolean constructor declare get " +
    "module require number set string symbol type from of unknown never object bigint undefined await async"
  ).split(" ")
)

const words = (text: string): Array<string> =>
  text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0)

/** `repos/list-for-org` → `ReposListForOrg`; a leading digit gets a `_`. */
export const pascal = (text: string): string => {
  const joined = words(text).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")
  const name = joined.length === 0 ? "Unnamed" : /^[0-9]/.test(joined) ? `_${joined}` : joined
  return reserved.has(name) ? `${name}_` : name
}

/** `list-for-org` → `listForOrg`. */
export const camel = (text: string): string => {
  const p = words(text).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")
  const name = p.length === 0 ? "unnamed" : p[0]!.toLowerCase() + p.slice(1)
  const safe = /^[0-9]/.test(name) ? `_${name}` : name
  return keywords.has(safe) ? `${safe}_` : safe
}

/** A property key as written in an object literal or type. */
export const key = (name: string): string => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name)

/** Gives each wanted name once: the second `x` becomes `x2`. */
export const unique = () => {
  const used = new Set<string>()
  return (name: string): string => {
    let candidate = name
    for (let i = 2; used.has(candidate.toLowerCase()); i++) candidate = `${name}${i}`
    used.add(candidate.toLowerCase())
    return candidate
  }
}

/** A name as a `const` identifier: keywords get a `_`. */
export const identifier = (name: string): string => keywords.has(name) ? `${name}_` : name
