/**
 * The body of `apikit demo`, loaded only when the command runs, so other
 * `apikit` commands do not pay for the sandbox, undici and every policy package.
 *
 * @internal
 */
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import * as Sandbox from "@apikit/testing/Sandbox"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Demo from "../Demo.js"
import { ExitCode } from "../WebhooksCommand.js"
import * as Render from "./render.js"

/** The parsed flags. @internal */
export interface Args {
  readonly count: number
  readonly concurrency: number
  readonly faults: string
  readonly limit: number
  readonly seed: Option.Option<number>
}

const usage = (message: string) => Effect.zipRight(Console.error(message), Effect.fail(new ExitCode({ code: 2 })))

const write = (text: string) => Effect.sync(() => process.stdout.write(text))

/** Runs the demo with a progress display and prints the summary; fails with ExitCode 1 or 2. @internal */
export const run = (args: Args): Effect.Effect<void, ExitCode> =>
  Effect.gen(function*() {
    const faults = yield* Effect.catchTag(Sandbox.parseFaults(args.faults), "InvalidFaults", (e) =>
      usage(`--faults: ${e.message}`))
    const tty = process.stdout.isTTY === true
    yield* Console.log(
      `apikit demo: ${args.count} projects, ${args.concurrency} at a time, against a sandbox limited to ${args.limit} req/s with faults ${args.faults}`
    )
    let latest: Demo.Progress = { total: args.count, created: 0, failed: 0, attempts: 0, rateLimited: 0 }
    const start = yield* Clock.currentTimeMillis
    const draw = tty
      ? Effect.suspend(() =>
        write(`\r\x1b[2K${Render.progressBar(latest)}`)
      )
      : Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Console.log(Render.progressLine(latest, (now - start) / 1000))
      )
    const ticker = yield* Effect.fork(
      Effect.repeat(draw, Schedule.spaced(tty ? "100 millis" : "2 seconds")).pipe(Effect.delay(tty ? 0 : "2 seconds"))
    )
    const summary = yield* Demo.run({
      count: args.count,
      concurrency: args.concurrency,
      faults,
      limit: args.limit,
      seed: Option.getOrElse(args.seed, () => 42),
      onProgress: (progress) =>
        Effect.sync(() => {
          latest = progress
        })
    }).pipe(
      Effect.provide(UndiciHttpClient.layer),
      // Per-attempt log lines would tear the progress bar; the summary tells the story.
      Logger.withMinimumLogLevel(LogLevel.Error),
      Effect.ensuring(Fiber.interrupt(ticker)),
      Effect.catchAll((e) =>
        e._tag === "InvalidDemoOptions" ? usage(e.message) : Effect.zipRight(
          Console.error(`apikit demo could not run: ${e.message}`),
          Effect.fail(new ExitCode({ code: 1 }))
        )
      )
    )
    if (tty) yield* write(`\r\x1b[2K${Render.progressBar(latest)}\n`)
    yield* Console.log(`\n${Render.table(summary)}`)
    if (summary.violations.length > 0) return yield* Effect.fail(new ExitCode({ code: 1 }))
  })
