#!/usr/bin/env node
/**
 * The npm registry mirror reachable here serves only the linux-x64 builds of some native packages (@swc/core-*,
 * @unrs/resolver-binding-*). `npm install` then leaves the other platforms' optional dependencies out of
 * package-lock.json, and `npm ci` refuses the lock as "out of sync". This adds a stub entry (version, os, cpu,
 * optional) for each missing platform package, so `npm ci` skips them by platform without fetching anything.
 * Run `node scripts/lock-platform-stubs.js` after changing dependencies; `npm ci --dry-run` must then pass.
 */
const fs = require('fs');
const path = require('path');
const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'loong64', 'riscv64', 'wasm32', 'mips64el'];
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p));
  return { os, cpu };
}

let added = 0;
for (const [loc, meta] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies || {})) {
    const base = loc ? `${loc}/node_modules/${dep}` : `node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (pkgs[base] || pkgs[top]) continue;
    const { os, cpu } = platformOf(dep);
    if (!os && !cpu) continue; // not a platform package: leave it to npm
    const entry = { version, optional: true };
    if (meta.dev) entry.dev = true;
    if (os) entry.os = [os];
    if (cpu) entry.cpu = [cpu];
    pkgs[top] = entry;
    added++;
  }
}
// keep npm's ordering (sorted keys after the root "")
const sorted = { '': pkgs[''] };
for (const k of Object.keys(pkgs).filter((k) => k !== '').sort()) sorted[k] = pkgs[k];
lock.packages = sorted;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`lock-platform-stubs: added ${added} platform stub(s)\n`);
