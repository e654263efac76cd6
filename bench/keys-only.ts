import { runKeys } from "./memory.bench.ts"
console.log(await runKeys())
