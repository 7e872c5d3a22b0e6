"""
AWS's own validators over the templates `cdk synth` wrote (run by scripts/aws-validators.sh, in its venv).

  check.py cfn-lint   TEMPLATE...   cfn-lint, every rule family (errors, warnings, informational), several regions
  check.py iam        TEMPLATE...   parliament over every IAM policy document, intrinsics rendered (resolve.py)
  check.py asl        OUTDIR TEMPLATE...
                                    renders each state machine definition (resolve.py) to OUTDIR/<stack>.<id>.asl.json
                                    and runs cfn-lint's Step Functions rule (E3601) over a template that holds it as
                                    a literal Definition (CDK's Fn::Join DefinitionString is opaque to that rule)
  check.py asl-service FILE.asl.json...
                                    AWS's Amazon States Language service (npm) over the rendered definitions
  check.py bundles    CDK_OUT...    each Lambda bundle loaded and invoked once with a sample event, in a fresh
                                    process on the Lambda runtime's Node.js ($VALIDATORS_NODE), in a network
                                    namespace of its own (unshare -n: no route anywhere, so nothing leaves the machine)
  check.py acks-unused              fails if an acknowledgement matched nothing (call after the others)

Every finding must be fixed or acknowledged, with its reason, in lib/aws-validator-acknowledgements.json; an
acknowledgement that matches no finding fails too (a stale reason is a wrong reason).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from resolve import Resolver, Unresolvable  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACKS_FILE = ROOT / "lib" / "aws-validator-acknowledgements.json"
USED_FILE = Path(os.environ.get("VALIDATORS_ACKS_USED", ROOT / ".cache" / "validators" / "acks-used.json"))
REGIONS = ["us-east-1", "eu-central-1", "eu-west-1", "ap-southeast-2"]
BIN = Path(sys.executable).parent


def load_acks() -> dict[str, list[dict[str, str]]]:
    doc = json.loads(ACKS_FILE.read_text())
    for validator, acks in doc.items():
        if validator.startswith("$"):
            continue
        for a in acks:
            if not a.get("reason", "").strip():
                raise SystemExit(f"{ACKS_FILE.name}: an acknowledgement of {validator} has no reason: {a}")
    return doc


def mark_used(key: str) -> None:
    used = set(json.loads(USED_FILE.read_text())) if USED_FILE.exists() else set()
    used.add(key)
    USED_FILE.parent.mkdir(parents=True, exist_ok=True)
    USED_FILE.write_text(json.dumps(sorted(used)))


def triage(validator: str, findings: list[dict[str, str]]) -> int:
    """Prints each finding as acknowledged (with its reason) or not; returns the number not acknowledged."""
    acks = load_acks().get(validator, [])
    open_ = 0
    shown: set[int] = set()
    for f in findings:
        line = f"{f['stack']}: {f['rule']} {f['where']}: {f['message']}"
        hit = next(
            (
                (i, a)
                for i, a in enumerate(acks)
                if a["rule"] == f["rule"]
                and re.search(a.get("where", ""), f["where"])
                and re.search(a.get("message", ""), f["message"])
            ),
            None,
        )
        if hit:
            mark_used(f"{validator}#{hit[0]}")
            print(f"  acknowledged  {line}  [ack {hit[0] + 1}]")
            shown.add(hit[0])
        else:
            open_ += 1
            print(f"  FINDING       {line}")
    for i in sorted(shown):
        print(f"  [ack {i + 1}] {acks[i]['reason']}")
    print(f"{validator}: {len(findings)} finding(s), {len(findings) - open_} acknowledged, {open_} open")
    return open_


def stack_of(template: Path) -> str:
    return template.name.removesuffix(".template.json")


# --- cfn-lint -------------------------------------------------------------------------------------------------


def run_cfn_lint(templates: list[Path], extra: list[str] | None = None) -> list[dict[str, Any]]:
    cmd = [str(BIN / "cfn-lint"), "--format", "json", "--include-checks", "I", "--regions", *REGIONS, *(extra or []), "--", *map(str, templates)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    # exit code: bit flags of the levels found (2 error, 4 warning, 8 info); 1 = cfn-lint itself failed
    if r.returncode & 1 or not r.stdout.strip():
        if r.returncode == 0:
            return []
        sys.stderr.write(r.stderr)
        raise SystemExit(f"cfn-lint failed to run (exit {r.returncode})")
    return json.loads(r.stdout)


def cmd_cfn_lint(templates: list[Path]) -> int:
    findings = [
        {
            "stack": Path(m["Filename"]).name.removesuffix(".template.json"),
            "rule": m["Rule"]["Id"],
            "where": "/".join(map(str, m["Location"]["Path"] or [])),
            "message": m["Message"],
        }
        for m in run_cfn_lint(templates)
    ]
    return triage("cfn-lint", findings)


# --- IAM: parliament --------------------------------------------------------------------------------------------


def policy_documents(template: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(where, kind, document) for every IAM policy document in the template."""
    out: list[tuple[str, str, Any]] = []
    for lid, r in template.get("Resources", {}).items():
        t, p = r["Type"], r.get("Properties", {})
        if t in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            out.append((f"{lid}/PolicyDocument", "identity", p["PolicyDocument"]))
        elif t == "AWS::IAM::Role":
            out.append((f"{lid}/AssumeRolePolicyDocument", "trust", p["AssumeRolePolicyDocument"]))
            for i, pol in enumerate(p.get("Policies", [])):
                out.append((f"{lid}/Policies/{i}", "identity", pol["PolicyDocument"]))
        elif t in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy", "AWS::Events::EventBusPolicy"):
            out.append((f"{lid}/PolicyDocument", "resource", p["PolicyDocument"]))
        elif t == "AWS::KMS::Key":
            out.append((f"{lid}/KeyPolicy", "resource", p["KeyPolicy"]))
        elif "PolicyDocument" in p or "KeyPolicy" in p:
            raise SystemExit(f"{lid} ({t}) holds a policy document this check does not know yet: add its type here")
    return out


def cmd_iam(templates: list[Path]) -> int:
    from parliament import analyze_policy_string

    findings: list[dict[str, str]] = []
    checked = skipped = 0
    for path in templates:
        template = json.loads(path.read_text())
        stack = stack_of(path)
        resolver = Resolver(template, stack)
        for where, kind, doc in policy_documents(template):
            try:
                rendered = resolver.resolve(doc)
            except Unresolvable as e:
                skipped += 1
                findings.append({"stack": stack, "rule": "UNRESOLVABLE_INTRINSIC", "where": where, "message": str(e)})
                continue
            checked += 1
            # Trust and resource policies name a Principal; parliament checks their actions and resources all the same.
            policy = analyze_policy_string(json.dumps(rendered), include_community_auditors=True)
            for f in policy.findings:
                detail = f.detail if isinstance(f.detail, str) else json.dumps(f.detail, sort_keys=True, default=str)
                findings.append({"stack": stack, "rule": f.issue, "where": f"{where} ({kind})", "message": f"{f.title}: {detail}".strip()})
    print(f"parliament: {checked} policy document(s) checked, {skipped} skipped (unresolvable intrinsic)")
    return triage("parliament", findings)


# --- Step Functions ---------------------------------------------------------------------------------------------


def cmd_asl(outdir: Path, templates: list[Path]) -> int:
    outdir.mkdir(parents=True, exist_ok=True)
    findings: list[dict[str, str]] = []
    derived: list[Path] = []
    n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in templates:
            template = json.loads(path.read_text())
            stack = stack_of(path)
            resolver = Resolver(template, stack)
            resources: dict[str, Any] = {}
            for lid, r in template["Resources"].items():
                if r["Type"] != "AWS::StepFunctions::StateMachine":
                    continue
                p = r["Properties"]
                definition = json.loads(resolver.resolve(p["DefinitionString"])) if "DefinitionString" in p else resolver.resolve(p["Definition"])
                (outdir / f"{stack}.{lid}.asl.json").write_text(json.dumps(definition, indent=2))
                # only the definition is under test here (the real resource is linted whole by `check.py cfn-lint`)
                resources[lid] = {"Type": r["Type"], "Properties": {"Definition": definition, "RoleArn": "arn:aws:iam::123456789012:role/sm"}}
                n += 1
            d = Path(tmp) / f"{stack}.template.json"
            d.write_text(json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, indent=1))
            derived.append(d)
        for m in run_cfn_lint(derived, ["--ignore-checks", "W", "I"]):
            findings.append(
                {
                    "stack": Path(m["Filename"]).name.removesuffix(".template.json"),
                    "rule": m["Rule"]["Id"],
                    "where": "/".join(map(str, m["Location"]["Path"] or [])),
                    "message": m["Message"],
                }
            )
    print(f"cfn-lint E3601 (Step Functions definition schema): {n} state machine(s) rendered into {outdir}")
    return triage("cfn-lint-stepfunctions", findings)


def cmd_asl_service(files: list[Path]) -> int:
    node = os.environ["VALIDATORS_NODE"]
    env = {**os.environ, "NODE_PATH": os.environ["VALIDATORS_NODE_PATH"]}
    r = subprocess.run([node, str(Path(__file__).parent / "asl-check.js"), *map(str, files)], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit("asl-check.js failed to run")
    findings = [
        {"stack": d["file"].removesuffix(".asl.json"), "rule": d["severity"], "where": d["where"], "message": d["message"]}
        for d in json.loads(r.stdout)
    ]
    print(f"amazon-states-language-service: {len(files)} definition(s) validated")
    return triage("amazon-states-language-service", findings)


# --- Lambda bundles ---------------------------------------------------------------------------------------------

LOAD_OR_CODING_ERRORS = {"SyntaxError", "ReferenceError", "TypeError", "RangeError", "EvalError", "URIError"}


def sample_event(logical_id: str, config: dict[str, Any], stack: str, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """(event, regular expression the outcome must match) for each function of the stack, by logical id."""
    job = next(j for j in config["jobs"] if j.get("enabled", True))
    asg = next((j["target"]["autoScalingGroupName"] for j in config["jobs"] if j["target"]["kind"] == "asg"), "group")
    t = "2026-01-05T09:00:00Z"
    scheduled = {"version": "0", "id": "1", "detail-type": "Scheduled Event", "source": "aws.events", "account": "123456789012", "time": t, "region": "us-east-1", "resources": [], "detail": {}}
    if logical_id.startswith("Collector"):
        # every Flink REST call fails (no route): the collector reports each job and fails as a whole
        return scheduled, r"^error Error: collecting failed for every job: .*" + re.escape(job["name"])
    if logical_id.startswith("Scaler"):
        # a schedule entry: config and event validated, then the first AWS call (state table) fails (no route)
        return {"source": "schedule", "job": job["name"], "parallelism": job["bounds"]["minParallelism"], "schedule": "validator", "scheduledTime": t}, r"^error .*dynamodb\."
    if logical_id.startswith("RescaleWorkflowStepFunction"):
        return {"step": "validate", "state": {"job": "no-such-job", "parallelism": 2}, "execution": {"id": "arn:aws:states:us-east-1:123456789012:execution:sm:x", "name": "x"}}, r"^error InvalidInput: .*no job named \"no-such-job\"; configured jobs: .*" + re.escape(job["name"])
    if logical_id.startswith("RescaleWorkflowWatchdogFunction"):
        sm = env["STATE_MACHINE_ARN"]
        detail = {"executionArn": sm.replace(":stateMachine:", ":execution:") + ":x", "stateMachineArn": sm, "name": "x", "status": "ABORTED", "startDate": 1767603600000, "stopDate": 1767603660000, "input": json.dumps({"job": job["name"], "parallelism": 2})}
        return {"step": "watchdog", "state": detail, "execution": {"id": detail["executionArn"], "name": "x"}}, r"^error Transient: watchdog: .*dynamodb\."
    if logical_id.startswith("TerminationDrainFunction"):
        detail = {"LifecycleActionToken": "87654321-4321-4321-4321-210987654321", "AutoScalingGroupName": asg, "LifecycleHookName": f"{stack}-drain-taskmanager", "EC2InstanceId": "i-0123456789abcdef0", "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING"}
        return {"version": "0", "id": "2", "detail-type": "EC2 Instance-terminate Lifecycle Action", "source": "aws.autoscaling", "account": "123456789012", "time": t, "region": "us-east-1", "resources": [], "detail": detail}, r"^error CapacityTargetError: asg \"" + re.escape(asg) + r"\": CompleteLifecycleAction failed"
    raise SystemExit(f"no sample event for Lambda function {logical_id}: add one to check.py sample_event")


def cmd_bundles(outdirs: list[Path]) -> int:
    node = os.environ["VALIDATORS_NODE"]
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    sdk = ROOT / "node_modules"
    findings: list[dict[str, str]] = []
    n = 0
    for outdir in outdirs:
        for path in sorted(outdir.glob("*.template.json")):
            template = json.loads(path.read_text())
            stack = stack_of(path)
            config = json.loads((outdir / "validators.config.json").read_text())
            resolver = Resolver(template, stack)
            for lid, r in template["Resources"].items():
                if r["Type"] != "AWS::Lambda::Function":
                    continue
                p = r["Properties"]
                runtime = p["Runtime"]
                m = re.fullmatch(r"nodejs(\d+)\.x", runtime)
                if not m or not node_version.startswith(f"v{m.group(1)}."):
                    findings.append({"stack": stack, "rule": "RUNTIME_MISMATCH", "where": lid, "message": f"{runtime}, checked on Node.js {node_version}"})
                asset = outdir / f"asset.{p['Code']['S3Key'].removesuffix('.zip')}"
                variables = {k: str(v) for k, v in resolver.resolve(p.get("Environment", {}).get("Variables", {})).items()}
                event, expected = sample_event(lid, config, stack, variables)
                with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as ev:
                    json.dump(event, ev)
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    # the Lambda runtime provides the AWS SDK v3 (the bundles leave @aws-sdk/* out): the project's copy stands in
                    "NODE_PATH": str(sdk),
                    "AWS_REGION": "us-east-1",
                    "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                    "AWS_SECRET_ACCESS_KEY": "validator",
                    "AWS_SESSION_TOKEN": "validator",
                    "AWS_LAMBDA_FUNCTION_NAME": lid,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(p.get("MemorySize", 128)),
                    "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
                    "AWS_MAX_ATTEMPTS": "1",
                    "LAMBDA_TASK_ROOT": str(asset),
                    "TZ": ":UTC",
                    **variables,
                    "POWERTOOLS_TRACE_ENABLED": "false",
                    "POWERTOOLS_DEV": "false",
                }
                cmd = ["unshare", "--net", "--", node, str(Path(__file__).parent / "invoke-bundle.js"), str(asset), p["Handler"], ev.name]
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=90)
                except subprocess.TimeoutExpired:
                    findings.append({"stack": stack, "rule": "BUNDLE_TIMEOUT", "where": lid, "message": "no answer within 90 s"})
                    continue
                finally:
                    os.unlink(ev.name)
                n += 1
                line = next((x for x in out.stdout.splitlines() if x.startswith("@@RESULT@@")), None)
                if line is None:
                    tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
                    findings.append({"stack": stack, "rule": "BUNDLE_CRASHED", "where": lid, "message": f"exit {out.returncode}: {' | '.join(tail)}"})
                    continue
                res = json.loads(line.removeprefix("@@RESULT@@"))
                err = res.get("error") or {}
                outcome = f"ok {res['value']}" if res["ok"] else f"error {err.get('name')}: {err.get('message')}"
                code = str(err.get("code") or "")
                print(f"  {stack}/{lid} ({runtime}, bundle {asset.name[:14]}…) on Node.js {res['node']}: {res['phase']} -> {outcome[:240]}")
                if res["phase"] == "load" or err.get("name") in LOAD_OR_CODING_ERRORS or code.startswith("ERR_") or code == "MODULE_NOT_FOUND":
                    findings.append({"stack": stack, "rule": "BUNDLE_FAILED_TO_START", "where": lid, "message": outcome})
                elif not re.search(expected, outcome):
                    findings.append({"stack": stack, "rule": "BUNDLE_UNEXPECTED_OUTCOME", "where": lid, "message": f"{outcome} (expected /{expected}/)"})
    print(f"bundles: {n} Lambda bundle(s) invoked on Node.js {node_version}")
    return triage("bundles", findings)


def cmd_acks_unused() -> int:
    used = set(json.loads(USED_FILE.read_text())) if USED_FILE.exists() else set()
    stale = 0
    for validator, acks in load_acks().items():
        if validator.startswith("$"):
            continue
        for i, a in enumerate(acks):
            if f"{validator}#{i}" not in used:
                stale += 1
                print(f"  STALE acknowledgement of {validator}, matched no finding: {json.dumps(a)}")
    print(f"acknowledgements: {stale} stale")
    return stale


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "cfn-lint":
        return cmd_cfn_lint([Path(a) for a in args])
    if cmd == "iam":
        return cmd_iam([Path(a) for a in args])
    if cmd == "asl":
        return cmd_asl(Path(args[0]), [Path(a) for a in args[1:]])
    if cmd == "asl-service":
        return cmd_asl_service([Path(a) for a in args])
    if cmd == "bundles":
        return cmd_bundles([Path(a) for a in args])
    if cmd == "acks-unused":
        return cmd_acks_unused()
    if cmd == "acks-reset":
        USED_FILE.unlink(missing_ok=True)
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
