#!/usr/bin/env node
// Package bin shim: runs the TypeScript CLI through tsx so `npx flink-elastic ...` works from a checkout.
require('tsx/cjs');
require('./flink-elastic.ts');
