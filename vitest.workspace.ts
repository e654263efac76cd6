/**
 * The vitest projects of the monorepo: every package and the examples.
 * `vitest.config.ts` passes this list as `test.projects` (the workspace file
 * itself is deprecated in vitest 3.2, the list is not).
 */
export default ["packages/*", "examples"]
