/**
 * Prints one plain closing line after the default reporter's summary, e.g.
 * `Tests: 454 passed, 0 failed, 3 skipped`: a runner-independent format that
 * CI tooling can read without knowing vitest's.
 */
import type { Reporter } from "vitest/node"

interface Task {
  readonly type: string
  readonly mode?: string
  readonly result?: { readonly state?: string } | undefined
  readonly tasks?: ReadonlyArray<Task>
}

const count = (tasks: ReadonlyArray<Task>, totals: { passed: number; failed: number; skipped: number }) => {
  for (const task of tasks) {
    if (task.tasks !== undefined && task.type !== "test") {
      // A file or suite that failed outside any test (a load error, a failing hook) fails the run.
      if (task.result?.state === "fail" && task.tasks.length === 0) totals.failed++
      count(task.tasks, totals)
    } else if (task.type === "test") {
      const state = task.result?.state
      if (state === "pass") totals.passed++
      else if (state === "fail") totals.failed++
      else totals.skipped++
    }
  }
}

export class PlainSummary implements Reporter {
  // onFinished runs after the default reporter printed its summary, so this line closes the output.
  onFinished(files: ReadonlyArray<Task> = []) {
    const totals = { passed: 0, failed: 0, skipped: 0 }
    count(files, totals)
    const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : ""
    process.stdout.write(`Tests: ${totals.passed} passed, ${totals.failed} failed${skipped}\n`)
  }
}
