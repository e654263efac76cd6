import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Redis as IORedis } from "ioredis"
import { describe } from "./describe.js"

/** Runs one ioredis command; a failure becomes a one-line description (never a secret: ioredis errors carry none). */
export const call = <A>(f: () => Promise<A>): Effect.Effect<A, string> => Effect.tryPromise({ try: f, catch: describe })

type Command = (...args: Array<string | number>) => Promise<unknown>

/**
 * A Lua script as a command. ioredis sends it with EVALSHA and falls back to
 * EVAL once when Redis does not know it yet (after a restart, say).
 */
export const script = (client: IORedis, name: string, lua: string, numberOfKeys: number): Command => {
  const commands = client as unknown as Record<string, Command | undefined>
  if (typeof commands[name] !== "function") client.defineCommand(name, { lua, numberOfKeys })
  const command = commands[name]!
  return (...args) => command.apply(client, args)
}

/** A positive whole number of milliseconds for PX / PEXPIRE. */
export const px = (millis: number): number => Math.max(1, Math.ceil(millis))

/**
 * A store's "Redis is unreachable" warning, at most once per `everyMillis`
 * (debug in between): during an outage every call takes the fallback, and a
 * warning per call would flood the logs.
 */
export const outageLog = (everyMillis = 10_000) => {
  let last = -Infinity
  return (message: string, annotations: Record<string, unknown>): Effect.Effect<void> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const warn = now - last >= everyMillis
      if (warn) last = now
      return (warn ? Effect.logWarning(message) : Effect.logDebug(message)).pipe(Effect.annotateLogs(annotations))
    })
}
