/**
 * `apikit demo` (what `pnpm start` runs): the flagship demo against an
 * embedded Sandbox with faults on, with a live progress bar on a terminal
 * (plain periodic lines otherwise) and a summary table. Exits 1 when an
 * invariant fails, 2 on a usage error.
 *
 * @since 0.1.0
 */
import * as UndiciHttpClient from "@apikit/http/UndiciHttpClient"
import * as Sandbox from "@apikit/testing/Sandbox"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Demo from "./Demo.js"
import * as Render from "./demo/render.js"
import { ExitCode } from "./WebhooksCommand.js"

const defaultFaultsSpec = "5xx=0.1,reset=0.02,hang=0.01,burst=0.005"

const usage = (message: string) => Effect.zipRight(Console.error(message), Effect.fail(new ExitCode({ code: 2 })))

const write = (text: string) => Effect.sync(() => process.stdout.write(text))

/**
 * `apikit demo [--count N] [--concurrency N] [--faults SPEC] [--limit N] [--seed N]`.
 *
 * @since 0.1.0
 */
export const command = Command.make("demo", {
  count: Options.integer("count").pipe(Options.withDefault(200), Options.withDescription("projects to create")),
  concurrency: Options.integer("concurrency").pipe(
    Options.withDefault(20),
    Options.withDescription("creates in flight at once")
  ),
  faults: Options.text("faults").pipe(
    Options.withDefault(defaultFaultsSpec),
    Options.withDescription("faults the sandbox injects, e.g. 5xx=0.1,reset=0.02,hang=0.01,latency=20ms; none for none")
  ),
  limit: Options.integer("limit").pipe(
    Options.withDefault(20),
    Options.withDescription("the sandbox's rate limit, requests per second")
  ),
  seed: Options.integer("seed").pipe(
    Options.optional,
    Options.withDescription("seeds the sandbox's faults (default 42)")
  )
}, (args) =>
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
  })).pipe(
    Command.withDescription(
      "Create many projects concurrently through the full pipeline against a faulty sandbox, verify its webhooks, check the invariants."
    )
  )
