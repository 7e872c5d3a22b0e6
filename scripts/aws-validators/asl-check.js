/**
 * The rendered state machine definitions (check.py asl wrote them) through AWS's Amazon States Language service
 * (npm amazon-states-language-service, the validator behind the AWS Toolkit's Step Functions editor): its ASL JSON
 * schema, plus its own checks of state transitions (Next/Default/StartAt name existing states, no unreachable
 * state), of JSONPath fields and of intrinsic functions in Parameters. Prints one line per diagnostic, as
 * `<file>: <severity> <states path>: <message>`, for check.py to triage.
 *
 *   node asl-check.js FILE.asl.json...   (run from .cache/validators/npm's Node, where the service is installed)
 */
'use strict';
const { readFileSync } = require('node:fs');
const { basename } = require('node:path');
const { getLanguageService } = require('amazon-states-language-service');
const { TextDocument } = require('vscode-languageserver-textdocument');

const SEVERITY = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };

/** The JSON path ("States/Validate/Next") at a text offset, for a readable, stable location. */
function pathAt(root, offset) {
  const out = [];
  let node = root;
  while (node && node.children) {
    const child = node.children.find((c) => c.offset <= offset && offset < c.offset + c.length);
    if (!child) break;
    if (child.type === 'property') out.push(child.keyNode.value);
    node = child.type === 'property' ? child.valueNode : child;
    if (node && node.type === 'property') continue;
  }
  return out.join('/');
}

async function main() {
  const ls = getLanguageService({});
  const findings = [];
  for (const file of process.argv.slice(2)) {
    const text = readFileSync(file, 'utf8');
    const doc = TextDocument.create(`file://${file}`, 'asl', 0, text);
    const json = ls.parseJSONDocument(doc);
    const diagnostics = await ls.doValidation(doc, json);
    for (const d of diagnostics) {
      const where = pathAt(json.root, doc.offsetAt(d.range.start)) || '(document)';
      findings.push({ file: basename(file), severity: SEVERITY[d.severity] ?? String(d.severity), where, message: d.message.replace(/\s+/g, ' ') });
    }
  }
  process.stdout.write(JSON.stringify(findings));
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
