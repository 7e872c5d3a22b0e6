#!/usr/bin/env bash
# Checks the built package as a user would get it: `npm pack`, unpack it in a temporary folder, install its
# production dependencies only (the versions of package-lock.json, offline from the npm cache `npm ci` filled), then
# run the packed bin from another folder: --version, validate, decide, and a local rescale against the emulator.
# Usage: scripts/pack-check.sh   (30-70 s; needs a prior `npm ci` in this checkout)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
emu_pid=''
cleanup() { if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

tgz=$(cd "$root" && npm pack --silent --pack-destination "$work")
mkdir "$work/app" "$work/elsewhere"
tar xzf "$work/$tgz" -C "$work/app"
pkg="$work/app/package"
cp "$root/package-lock.json" "$pkg/"
(cd "$pkg" && npm ci --omit=dev --offline --no-audit --no-fund --silent)
bin="$pkg/bin/flink-elastic.js"
cd "$work/elsewhere"

echo "packed $tgz: flink-elastic $(node "$bin" --version)"
node "$bin" validate --config "$pkg/examples/local.config.json"
node "$bin" decide --config "$pkg/flink-elastic.config.json" --snapshot "$pkg/examples/snapshot.json" --explain | sed -n 1p

: > emulator.log
node "$bin" emulator --port 0 --job demo --parallelism 2 --task-managers 1 --slots 2 --time-scale 20 --status-every 0 --run-for 120 > emulator.log 2>&1 &
emu_pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' emulator.log && break; sleep 0.2; done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' emulator.log | sed -n 1p)
node "$bin" rescale --config "$pkg/examples/local.config.json" --job demo --parallelism 4 --local --flink-url "$url" \
  --state-file "$work/elsewhere/state.json" --poll-interval 1s | grep -E '^(SUCCEEDED|FAILED)'
node "$bin" history --config "$pkg/examples/local.config.json" --job demo --local --flink-url "$url" --state-file "$work/elsewhere/state.json"
echo "pack check passed"
