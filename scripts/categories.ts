/**
 * Part of `pnpm docgen`: every export of a published package's public modules
 * (`packages/<name>/src/*.ts`) has a `@category` in its JSDoc, so the API
 * reference groups it with its kind (docgen itself only requires `@since`).
 * Prints each export that has none and exits non-zero.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("..", import.meta.url))

const exported = (statement: ts.Statement): ReadonlyArray<{ readonly name: string; readonly node: ts.Node }> => {
  if (ts.isExportDeclaration(statement)) {
    // `export * as X from "./X.js"` (an index), or `export { a, b }` with a comment on each name.
    if (statement.exportClause === undefined) return []
    if (ts.isNamespaceExport(statement.exportClause)) {
      return [{ name: statement.exportClause.name.text, node: statement }]
    }
    return statement.exportClause.elements.map((element) => ({ name: element.name.text, node: element }))
  }
  const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) : undefined
  if (modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) !== true) return []
  if (ts.isVariableStatement(statement)) {
    return statement.declarationList.declarations.map((d) => ({ name: d.name.getText(), node: statement }))
  }
  const name = (statement as ts.DeclarationStatement).name
  return [{ name: name === undefined ? "default" : name.getText(), node: statement }]
}

const missing: Array<string> = []
for (const dir of readdirSync(`${root}packages`).sort()) {
  const manifest = `${root}packages/${dir}/package.json`
  if (!existsSync(manifest) || JSON.parse(readFileSync(manifest, "utf8")).private === true) continue
  for (const file of readdirSync(`${root}packages/${dir}/src`).sort()) {
    if (!file.endsWith(".ts") || file === "bin.ts") continue
    const path = `packages/${dir}/src/${file}`
    const source = ts.createSourceFile(path, readFileSync(`${root}${path}`, "utf8"), ts.ScriptTarget.Latest, true)
    for (const statement of source.statements) {
      for (const { name, node } of exported(statement)) {
        const leading = source.text.slice(node.getFullStart(), node.getStart(source))
        if (!/@category\s+\S/.test(leading)) missing.push(`${path}: ${name}`)
      }
    }
  }
}

if (missing.length > 0) {
  console.error(`Exports without a @category in their JSDoc:\n  ${missing.join("\n  ")}`)
  process.exitCode = 1
}
