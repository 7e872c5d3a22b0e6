#!/usr/bin/env bash
# moto (pinned) for the tests that call AWS APIs on loopback (test/support/moto.ts starts and stops the server).
# Installs scripts/moto/requirements.txt (pip --require-hashes; generated from requirements.in) into
# .cache/moto/venv (git-ignored; reused while the pins and the Python are unchanged) and prints the venv's python.
#
# Usage: scripts/moto-server.sh           install if needed; print the path of the venv's python
#        scripts/moto-server.sh --lock    regenerate requirements.txt with hashes after editing requirements.in
# Python 3 with venv and pip must be on PATH (or PYTHON=...); without it this fails, and so do the tests that need it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/moto
CACHE=$ROOT/.cache/moto
export PIP_FIND_LINKS= PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
PYTHON=${PYTHON:-python3}
mkdir -p "$CACHE"

if [[ ${1:-} == --lock ]]; then
  "$PYTHON" -m venv "$CACHE/pip-tools" && "$CACHE/pip-tools/bin/pip" install -q pip-tools==7.7.0
  (cd "$HERE" && "$CACHE/pip-tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in)
  exit 0
fi

command -v "$PYTHON" >/dev/null || { echo "moto-server.sh: $PYTHON not found (Python 3 with venv and pip is needed for the moto tests)" >&2; exit 1; }
want=$( (cat "$HERE/requirements.txt"; "$PYTHON" --version) | sha256sum | cut -c1-16)
# one installer at a time (jest runs test files in parallel workers)
exec 9>"$CACHE/.lock"
flock 9
if [[ ! -x $CACHE/venv/bin/python || $(cat "$CACHE/venv/.stamp" 2>/dev/null) != "$want" ]]; then
  echo "moto-server.sh: installing moto into $CACHE/venv (once; reused while scripts/moto/requirements.txt is unchanged)" >&2
  rm -rf "$CACHE/venv"
  "$PYTHON" -m venv "$CACHE/venv" >&2
  "$CACHE/venv/bin/pip" install -q --require-hashes --no-deps -r "$HERE/requirements.txt" >&2
  echo "$want" >"$CACHE/venv/.stamp"
fi
echo "$CACHE/venv/bin/python"
