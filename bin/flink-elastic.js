#!/usr/bin/env node
'use strict';
// Package bin shim: `npx flink-elastic …` (from a checkout or from the installed package) runs the TypeScript CLI
// with the same two loaders as the `tsx` command (`npm run cli`): tsx's ESM hook, so the commands' lazy
// `await import('…/local/workflow-runner')` (extension-less .ts paths) resolve, and its CommonJS hook for `require`.
// The ESM API is loaded from tsx's .mjs build: the .cjs build of `tsx/esm/api` (4.23.15) registers its hooks from a
// wrong relative path (…/dist/esm/api/esm/index.mjs) and fails with ERR_MODULE_NOT_FOUND.
import('tsx/esm/api').then(
  ({ register }) => {
    register();
    require('tsx/cjs/api').register();
    require('./flink-elastic.ts');
  },
  (e) => {
    process.stderr.write(`error: cannot load tsx, which runs the flink-elastic CLI (is the package installed with its dependencies?): ${e.message}\n`);
    process.exit(1);
  },
);
