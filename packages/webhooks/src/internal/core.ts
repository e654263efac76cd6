/**
 * The synchronous core shared by every scheme: strict decoders, header lookup,
 * timestamp checks and constant-time comparison. No Effect in here on purpose:
 * verification is on the hot path of every delivery, so it stays plain code
 * and the public modules wrap it once per call.
 *
 * @internal
 */
import * as Redacted from "effect/Redacted"
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto"
import { type HeadersInput, type Reason, type Secrets, WebhookError } from "../Webhook.js"

/** @internal */
export type Algorithm = "sha1" | "sha256" | "sha512"

/** @internal */
export const digestBytes: Record<Algorithm, number> = { sha1: 20, sha256: 32, sha512: 64 }

/** Length of a digest of `bytes` bytes as lower-case hex or padded base64. @internal */
export const encodedLength = (encoding: "hex" | "base64", bytes: number): number =>
  encoding === "hex" ? bytes * 2 : Math.ceil(bytes / 3) * 4

/**
 * The fields are ours and valid by construction, so Schema validation is
 * skipped: refusing a forged request should cost less than verifying a real one.
 *
 * @internal
 */
export const fail = (scheme: string, reason: Reason, header?: string, detail?: string): WebhookError =>
  new WebhookError({ scheme, reason, header, detail }, true)

/** @internal */
export const secretList = (secrets: Secrets): ReadonlyArray<Redacted.Redacted<string>> =>
  Redacted.isRedacted(secrets) ? [secrets] : secrets

/** @internal */
export const keyOf = (bytes: Uint8Array): KeyObject => createSecretKey(bytes)

/** The secrets as HMAC keys: UTF-8 bytes of each, revealed only here. @internal */
export const utf8Keys = (secrets: Secrets): ReadonlyArray<KeyObject> =>
  secretList(secrets).map((s) => keyOf(Buffer.from(Redacted.value(s), "utf8")))

/** @internal */
export const hmac = (
  algorithm: Algorithm,
  key: KeyObject,
  prefix: string,
  body: Uint8Array,
  suffix?: string
): Buffer => {
  const h = createHmac(algorithm, key)
  if (prefix.length > 0) h.update(prefix, "utf8")
  h.update(body)
  if (suffix !== undefined && suffix.length > 0) h.update(suffix, "utf8")
  return h.digest()
}

/**
 * The HMAC as text in the encoding the provider sends (`hex` is lower case,
 * `base64` canonical and padded). Encoding in C++ is cheaper than allocating the
 * digest as a Buffer and decoding the received signature into another one.
 *
 * @internal
 */
export const hmacText = (
  algorithm: Algorithm,
  key: KeyObject,
  encoding: "hex" | "base64",
  prefix: string,
  body: Uint8Array,
  suffix?: string
): string => {
  const h = createHmac(algorithm, key)
  // Each update is a call into C++: skip the empty ones (Twilio signs no body bytes).
  if (prefix.length > 0) h.update(prefix, "utf8")
  if (body.length > 0) h.update(body)
  if (suffix !== undefined && suffix.length > 0) h.update(suffix, "utf8")
  return h.digest(encoding)
}

/**
 * Constant-time equality of `expected` and `value` from `offset` to `end`: every
 * character is compared, whatever the first difference. Only the lengths, which
 * are public (a digest's encoded size), decide anything early.
 *
 * Comparing the canonical text is the same test as decoding the received
 * signature and comparing bytes: lower-case hex and canonical padded base64 are
 * one-to-one with the bytes, so a match means the strict format check would pass too.
 *
 * @internal
 */
export const equalText = (expected: string, value: string, offset: number, end = value.length): boolean => {
  const n = expected.length
  if (end - offset !== n) return false
  let diff = 0
  for (let i = 0; i < n; i++) diff |= expected.charCodeAt(i) ^ value.charCodeAt(offset + i)
  return diff === 0
}

/** Constant-time equality of two byte strings of public length. @internal */
export const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b)

const hexPatterns = new Map<number, RegExp>()

const hexPattern = (bytes: number): RegExp => {
  let pattern = hexPatterns.get(bytes)
  if (pattern === undefined) {
    pattern = new RegExp(`^[0-9a-f]{${bytes * 2}}$`)
    hexPatterns.set(bytes, pattern)
  }
  return pattern
}

/** Whether `value` is lower-case hex of exactly `bytes` bytes. @internal */
export const isHex = (value: string, bytes: number): boolean => hexPattern(bytes).test(value)

const base64Patterns = new Map<number, RegExp>()

// Canonical padded base64 of exactly n bytes: the unused low bits of the last
// character must be zero, so "…E=" and "…F=" cannot both decode to the same bytes.
const base64Pattern = (bytes: number): RegExp => {
  let pattern = base64Patterns.get(bytes)
  if (pattern === undefined) {
    const full = Math.floor(bytes / 3)
    const rest = bytes % 3
    const tail = rest === 1
      ? "[A-Za-z0-9+/][AQgw]=="
      : rest === 2
      ? "[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]="
      : ""
    pattern = new RegExp(`^(?:[A-Za-z0-9+/]{4}){${full}}${tail}$`)
    base64Patterns.set(bytes, pattern)
  }
  return pattern
}

/** Whether `value` is canonical, padded standard base64 of exactly `bytes` bytes. @internal */
export const isBase64 = (value: string, bytes: number): boolean => base64Pattern(bytes).test(value)

/** Canonical, padded standard base64 of exactly `bytes` bytes, or undefined. @internal */
export const decodeBase64 = (value: string, bytes: number): Buffer | undefined =>
  base64Pattern(bytes).test(value) ? Buffer.from(value, "base64") : undefined

/** Canonical padded base64 of any length (for secrets and keys), or undefined. @internal */
export const decodeBase64Any = (value: string): Buffer | undefined => {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined
  const bytes = Buffer.from(value, "base64")
  return bytes.toString("base64") === value ? bytes : undefined
}

const lookup = (headers: HeadersInput, name: string): string | ReadonlyArray<string> | undefined => {
  const direct = headers[name]
  if (direct !== undefined) return direct
  // Plain objects may keep the sender's casing; platform and Node headers are lower case.
  for (const key in headers) {
    if (key.length === name.length && key.toLowerCase() === name) return headers[key]
  }
  return undefined
}

/** A header's single value, undefined when absent, or an error when sent more than once. @internal */
export const optionalHeader = (
  scheme: string,
  headers: HeadersInput,
  name: string
): string | undefined | WebhookError => {
  const value = lookup(headers, name)
  if (value === undefined || typeof value === "string") return value
  if (value.length === 0) return undefined
  if (value.length === 1) return value[0]
  return fail(scheme, "MalformedHeader", name, "the header was sent more than once")
}

/** A required header's single value. @internal */
export const requiredHeader = (scheme: string, headers: HeadersInput, name: string): string | WebhookError => {
  const value = optionalHeader(scheme, headers, name)
  return value === undefined || value === "" ? fail(scheme, "MissingHeader", name) : value
}

const integer = /^(?:0|[1-9][0-9]{0,11})$/

/**
 * Parses an integer Unix timestamp (seconds) and checks it against the
 * tolerance in both directions; `tolerance` 0 disables the window.
 *
 * @internal
 */
export const timestamp = (
  scheme: string,
  header: string,
  raw: string,
  toleranceSeconds: number,
  nowMillis: number
): number | WebhookError => {
  if (!integer.test(raw)) {
    return fail(scheme, "MalformedHeader", header, "expected an integer Unix timestamp in seconds")
  }
  const seconds = Number(raw)
  if (toleranceSeconds > 0) {
    const now = Math.floor(nowMillis / 1000)
    if (now - seconds > toleranceSeconds) return fail(scheme, "TimestampTooOld", header)
    if (seconds - now > toleranceSeconds) return fail(scheme, "TimestampTooNew", header)
  }
  return seconds
}
