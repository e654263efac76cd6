/**
 * Applying an OpenAPI Overlay (Overlay Specification 1.0): actions in order, each with a JSONPath
 * `target` (RFC 9535, evaluated by `jsonpath-rfc9535`) and an `update` or `remove`. Pure: returns
 * the changed document or the reason it could not be applied, and changes `document` in place.
 */
import { exec } from "jsonpath-rfc9535"

type Json = Record<string, any>

const isObject = (value: unknown): value is Json => value !== null && typeof value === "object" && !Array.isArray(value)

/** `update` merged into an object: objects recursively, anything else (arrays included) replaced. */
const merge = (target: Json, update: Json): void => {
  for (const [key, value] of Object.entries(update)) {
    if (isObject(value) && isObject(target[key])) merge(target[key], value)
    else target[key] = structuredClone(value)
  }
}

/** What was wrong with the overlay, in words for the person who wrote it. */
export type Failure = string

/** Applies one overlay document to `document` (changed in place); a failure says which action and why. */
export const apply = (document: Json, overlay: unknown): Json | Failure => {
  if (!isObject(overlay)) return "an overlay is an object with `overlay: 1.0.0` and `actions`"
  const version = overlay["overlay"]
  if (typeof version !== "string" || !/^1\.0\.\d+$/.test(version)) {
    return `overlay version ${JSON.stringify(version)} is not supported (apikit reads Overlay 1.0.x)`
  }
  if (!Array.isArray(overlay["actions"])) return "the overlay has no `actions` list"
  const root = document
  for (const [i, action] of (overlay["actions"] as Array<unknown>).entries()) {
    const where = `action ${i + 1}`
    if (!isObject(action) || typeof action["target"] !== "string") return `${where} has no JSONPath \`target\``
    const target = action["target"]
    const remove = action["remove"] === true
    const hasUpdate = "update" in action
    if (!remove && !hasUpdate) return `${where} (${target}) has neither \`update\` nor \`remove: true\``
    const found: Array<{ readonly value: unknown; readonly path: ReadonlyArray<string | number> }> = []
    try {
      exec(root, target, (value, path) => {
        found.push({ value, path: [...path] })
      })
    } catch (cause) {
      return `${where}: ${target} is not a JSONPath expression (RFC 9535): ${
        cause instanceof Error ? cause.message : String(cause)
      }`
    }
    if (remove) {
      // Last match first, so removing an array element does not shift the ones still to remove.
      for (const { path } of [...found].reverse()) {
        if (path.length === 0) return `${where}: \`remove\` cannot target the whole document ($)`
        let parent: any = root
        for (const key of path.slice(0, -1)) parent = parent[key]
        const key = path[path.length - 1]!
        if (Array.isArray(parent) && typeof key === "number") parent.splice(key, 1)
        else if (isObject(parent)) delete parent[key]
      }
      continue
    }
    const update = action["update"]
    for (const { path, value } of found) {
      if (Array.isArray(value)) value.push(structuredClone(update))
      else if (isObject(value) && isObject(update)) merge(value, update)
      else if (isObject(value)) {
        return `${where} (${target}): the \`update\` for an object must be an object`
      } else {
        return `${where} (${target}) selects a ${value === null ? "null" : typeof value} at ${
          JSON.stringify(path)
        }; an update targets objects (merged) or arrays (appended to)`
      }
    }
  }
  return root
}
