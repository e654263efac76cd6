// Lint and format in one pass: typescript-eslint's recommended rules, and
// dprint formatting through @effect/eslint-plugin (the setup of Effect's own repo).
// `pnpm lint:fix` formats.
import effect from "@effect/eslint-plugin"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/build/**",
      "**/dist/**",
      "bench/results/**",
      "packages/*/docs/**",
      "packages/openapi/test/generated/**",
      "packages/openapi/.generated/**",
      "examples/generated/**"
    ]
  },
  ...tseslint.configs.recommended,
  {
    plugins: { "@effect": effect },
    rules: {
      "@effect/dprint": ["error", {
        config: {
          indentWidth: 2,
          lineWidth: 120,
          semiColons: "asi",
          quoteStyle: "alwaysDouble",
          trailingCommas: "never",
          operatorPosition: "maintain",
          "arrowFunction.useParentheses": "force"
        }
      }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "no-console": "error"
    }
  },
  {
    // Library code: failures are typed errors, time comes from Clock, randomness from Random.
    files: ["packages/*/src/**/*.ts"],
    rules: {
      "no-restricted-syntax": ["error", {
        selector: "ThrowStatement",
        message: "Fail with a Schema.TaggedError in the error channel instead of throwing."
      }, {
        selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']",
        message: "Read time from Clock so TestClock controls it."
      }, {
        selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']",
        message: "Use effect/Random so seeded tests are exact."
      }]
    }
  },
  {
    // Programs print to the terminal on purpose.
    files: [
      "examples/**/*.ts",
      "packages/cli/src/**/*.ts",
      "bench/**/*.ts",
      "reliability/**/*.ts",
      "scripts/**/*.ts",
      "scripts/**/*.mjs"
    ],
    rules: { "no-console": "off" }
  }
)
