/**
 * The vitest projects of the monorepo: every package, the examples and the
 * reliability suite.
 * `vitest.config.ts` passes this list as `test.projects` (the workspace file
 * itself is deprecated in vitest 3.2, the list is not).
 */
export default ["packages/*", "examples", "reliability"]
