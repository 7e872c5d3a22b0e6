// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

// `import * as z from 'zod'`, not `import { z }`: see the rule below. Repeated in every block that sets
// no-restricted-syntax, since a block's options replace the earlier ones for its files.
const zodNamespace = {
  selector: "ImportDeclaration[source.value=/^zod(\\/|$)/] > ImportSpecifier[imported.name='z']",
  message: "import * as z from 'zod' (the named `z` export defeats tree-shaking: +350 KB per Lambda bundle).",
};
// no-restricted-imports sees import declarations only; the project also loads modules lazily, with require('x') and
// typeof import('x'). These selectors hold the same layering for those.
const lazyLoadsOf = (pattern, message) => [
  { selector: `CallExpression[callee.name='require'][arguments.0.value=${pattern}]`, message },
  { selector: `ImportExpression[source.value=${pattern}]`, message },
  { selector: `TSImportType[source.value=${pattern}]`, message },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', 'coverage/**', 'reports/**', '.cache/**', '**/*.js', '!eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      // `import { z } from 'zod'` takes zod's `z` namespace object whole (every locale, JSON Schema, codegen: ~350 KB
      // more in each Lambda bundle); a namespace import used as `z.object(...)` lets esbuild keep only what is used.
      'no-restricted-syntax': ['error', zodNamespace],
    },
  },
  {
    // The decision core is pure: no AWS, no HTTP, no file system, no clock.
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@aws-sdk/*', 'aws-sdk', 'aws-cdk-lib', 'aws-cdk-lib/*', 'axios', '@kubernetes/*', 'node:*', 'fs', 'http', 'https', 'net', 'child_process'], message: 'functions/core is pure: no I/O, AWS or HTTP imports.' },
        { group: ['../adapters/*', '../handlers/*', '../../lib/*', '../../local/*', '**/adapters/**', '**/handlers/**', '**/scaler/**', '**/workflow/**', '**/collector/**', '**/local/**', '**/lib/**', '**/bin/**'], message: 'functions/core depends on nothing else in the project.' },
      ] }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'core has no clock: pass time in.' }, { name: 'fetch', message: 'core does no I/O.' }],
      'no-restricted-syntax': ['error', zodNamespace,
        ...lazyLoadsOf('/^(@aws-sdk\\/|aws-sdk$|aws-cdk-lib|axios$|node:|fs$|http$|https$|net$|child_process$)/', 'functions/core is pure: no I/O, AWS or HTTP imports.'),
        ...lazyLoadsOf('/(^|\\/)(adapters|handlers|scaler|workflow|collector|local|lib|bin)(\\/|$)/', 'functions/core depends on nothing else in the project.')],
    },
  },
  {
    // Infrastructure may use the core's config schema, never the other way round; it must not import handlers or adapters.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/functions/adapters/**', '**/functions/handlers/**', '**/local/**'], message: 'lib/ depends only on the core (config schema); handlers are referenced by entry path.' }] }],
    },
  },
  {
    // Adapters sit below the use cases: they never import a use case (scaler, workflow, collector) or a handler.
    files: ['functions/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/scaler/**', '**/workflow/**', '**/collector/**', '**/handlers/**', '**/scaler', '**/workflow', '**/collector', '**/handlers'], message: 'adapters never import use cases or handlers; pass what they need in.' }] }],
      'no-restricted-syntax': ['error', zodNamespace, ...lazyLoadsOf('/^\\.[./]*\\/(scaler|workflow|collector|handlers)(\\/|$)/', 'adapters never import use cases or handlers; pass what they need in.')],
    },
  },
  {
    // Use cases reach AWS only through ports; the production wiring files listed in `ignores` build the clients.
    files: ['functions/scaler/**/*.ts', 'functions/workflow/**/*.ts', 'functions/collector/**/*.ts'],
    ignores: ['functions/scaler/aws.ts', 'functions/workflow/production.ts', 'functions/workflow/production-clients.ts', 'functions/workflow/deps.ts', 'functions/workflow/finish.ts', 'functions/workflow/watchdog.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@aws-sdk/*'], message: 'use cases never import @aws-sdk: depend on a port (functions/adapters implements it).' }] }],
      'no-restricted-syntax': ['error', zodNamespace, ...lazyLoadsOf('/^@aws-sdk\\//', 'use cases never import @aws-sdk: depend on a port (functions/adapters implements it).')],
    },
  },
);
