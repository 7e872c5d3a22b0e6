// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', 'coverage/**', 'reports/**', '.cache/**', '**/*.js', '!eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The decision core is pure: no AWS, no HTTP, no file system, no clock.
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['@aws-sdk/*', 'aws-sdk', 'aws-cdk-lib', 'aws-cdk-lib/*', 'axios', '@kubernetes/*', 'node:*', 'fs', 'http', 'https', 'net', 'child_process'], message: 'functions/core is pure: no I/O, AWS or HTTP imports.' },
        { group: ['../adapters/*', '../handlers/*', '../../lib/*', '../../local/*', '**/adapters/**', '**/handlers/**'], message: 'functions/core depends on nothing else in the project.' },
      ] }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'core has no clock: pass time in.' }, { name: 'fetch', message: 'core does no I/O.' }],
    },
  },
  {
    // Infrastructure may use the core's config schema, never the other way round; it must not import handlers or adapters.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/functions/adapters/**', '**/functions/handlers/**', '**/local/**'], message: 'lib/ depends only on the core (config schema); handlers are referenced by entry path.' }] }],
    },
  },
);
