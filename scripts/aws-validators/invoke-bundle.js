/**
 * Loads one Lambda bundle the way the Node.js Lambda runtime does (require the file, take the exported handler) and
 * invokes it once with a sample event and a Lambda-like context. Prints {ok, value | error: {name, message, code}}.
 * Run by check.py in a fresh process, in a network namespace of its own (no route anywhere), on the Lambda
 * runtime's Node.js major.
 *
 *   node invoke-bundle.js BUNDLE_DIR HANDLER EVENT_FILE
 */
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const [dir, handlerSpec, eventFile] = process.argv.slice(2);
const [file, exportName] = handlerSpec.split('.');
const started = Date.now();
const context = {
  functionName: 'validator-invoke',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:validator-invoke',
  memoryLimitInMB: '256',
  awsRequestId: '00000000-0000-4000-8000-000000000000',
  logGroupName: '/aws/lambda/validator-invoke',
  logStreamName: 'validator',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, 60_000 - (Date.now() - started)),
};

function report(r) {
  process.stdout.write(`\n@@RESULT@@${JSON.stringify({ node: process.version, ...r })}\n`);
}

let handler;
try {
  handler = require(join(dir, `${file}.js`))[exportName];
  if (typeof handler !== 'function') throw new TypeError(`${file}.js exports no function "${exportName}"`);
} catch (e) {
  report({ ok: false, phase: 'load', error: { name: e.name, message: e.message, code: e.code } });
  process.exit(0);
}
Promise.resolve()
  .then(() => handler(JSON.parse(readFileSync(eventFile, 'utf8')), context))
  .then(
    (v) => report({ ok: true, phase: 'invoke', value: JSON.stringify(v ?? null).slice(0, 400) }),
    (e) => report({ ok: false, phase: 'invoke', error: { name: e?.name, message: String(e?.message).slice(0, 400), code: e?.code } }),
  )
  .finally(() => setTimeout(() => process.exit(0), 50).unref());
