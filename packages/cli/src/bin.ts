#!/usr/bin/env node
/**
 * The `apikit` executable (`pnpm apikit ...` runs it from the sources with tsx;
 * an installed package runs `dist/bin.js`).
 *
 * Most of a cold start is Node compiling the modules of effect and
 * @effect/cli. Node's module compile cache (22.1 and newer) keeps that work on
 * disk between runs, so it is turned on before anything else is loaded.
 *
 * @since 0.1.0
 */
import * as NodeModule from "node:module"
;(NodeModule as { readonly enableCompileCache?: () => unknown }).enableCompileCache?.()
await import("./internal/main.js")
