"""
Creates each synthesized stack in moto's CloudFormation (a moto server on 127.0.0.1, nothing else) and checks the
outputs the CLI reads (bin/commands/support/deployment.ts OUTPUTS): StateMachineArn, StateTableName and
NotificationTopicArn exist and name a state machine, a table and a topic that moto really created.

Set up as `cdk deploy` would find an environment: the bootstrap version parameter in SSM and the assets bucket
holding each Lambda bundle as <hash>.zip. Resource types moto's CloudFormation cannot create are listed (moto skips
them with a warning); they are findings of the validator "moto" (rule UNSUPPORTED_TYPE), acknowledged with their
reason in lib/aws-validator-acknowledgements.json: a real account is the only check of those.

  python moto_stack.py CDK_OUT...
"""
from __future__ import annotations

import io
import logging
import json
import socket
import sys
import warnings
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from check import stack_of, triage  # noqa: E402

OUTPUTS = {"stateMachineArn": "StateMachineArn", "tableName": "StateTableName", "topicArn": "NotificationTopicArn"}
ACCOUNT, REGION = "123456789012", "us-east-1"


def stand_ins(template: dict) -> list[str]:
    """
    moto cannot create AWS::DynamoDB::GlobalTable (CDK's TableV2), and every reference to the state table would fail
    the whole stack. A single-region GlobalTable is an AWS::DynamoDB::Table with the same keys, billing and TTL: that
    table stands in for it here (said in the output; the GlobalTable itself is cfn-lint's to check, and an account's).
    """
    done = []
    for lid, r in template["Resources"].items():
        if r["Type"] == "AWS::DynamoDB::GlobalTable":
            p = r["Properties"]
            props = {k: p[k] for k in ("KeySchema", "AttributeDefinitions", "BillingMode", "TimeToLiveSpecification", "TableName") if k in p}
            r["Type"], r["Properties"] = "AWS::DynamoDB::Table", props
            done.append(f"{lid}: AWS::DynamoDB::GlobalTable -> AWS::DynamoDB::Table")
        elif r["Type"] == "AWS::KMS::Key" and "Tags" in r.get("Properties", {}):
            # moto 5.2.6 reads a key's CloudFormation tags ({Key, Value}) with the KMS API's names ({TagKey,
            # TagValue}) and fails the whole stack with a 500; the key is created untagged here
            del r["Properties"]["Tags"]
            done.append(f"{lid}: AWS::KMS::Key without its Tags")
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(outdirs: list[Path]) -> int:
    import boto3
    from moto.cloudformation.parsing import get_model_map
    from moto.server import ThreadedMotoServer

    # moto's own "not supported" warnings and the server's request log: the types are listed as findings below
    warnings.filterwarnings("ignore")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)

    def client(name: str):
        return session.client(name, endpoint_url=endpoint)

    supported = set(get_model_map())
    findings: list[dict[str, str]] = []
    try:
        cfn, s3, ssm = client("cloudformation"), client("s3"), client("ssm")
        ssm.put_parameter(Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String")
        bucket = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
        s3.create_bucket(Bucket=bucket)
        for outdir in outdirs:
            for path in sorted(outdir.glob("*.template.json")):
                stack = stack_of(path)
                template = json.loads(path.read_text())
                for lid, r in template["Resources"].items():
                    if r["Type"] == "AWS::Lambda::Function":
                        key = r["Properties"]["Code"]["S3Key"]
                        buf = io.BytesIO()
                        with zipfile.ZipFile(buf, "w") as z:
                            for f in (outdir / f"asset.{key.removesuffix('.zip')}").iterdir():
                                z.write(f, f.name)
                        s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
                types = sorted({r["Type"] for r in template["Resources"].values()})
                for t in types:
                    if t not in supported and t != "AWS::CDK::Metadata":
                        findings.append({"stack": stack, "rule": "UNSUPPORTED_TYPE", "where": t, "message": "moto's CloudFormation cannot create this resource type (skipped)"})
                body = json.loads(path.read_text())
                for line in stand_ins(body):
                    print(f"  {stack}: stand-in {line}")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        cfn.create_stack(StackName=stack, TemplateBody=json.dumps(body), Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"])
                    except Exception as e:  # noqa: BLE001 - reported as a finding, with moto's message
                        findings.append({"stack": stack, "rule": "CREATE_FAILED", "where": "CreateStack", "message": f"{type(e).__name__}: {e}"[:400]})
                        continue
                d = cfn.describe_stacks(StackName=stack)["Stacks"][0]
                created = cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
                print(f"  {stack}: {d['StackStatus']}, {len(created)} of {len(template['Resources'])} resources created, types {len(types)} ({sum(t in supported for t in types)} supported by moto)")
                if d["StackStatus"] != "CREATE_COMPLETE":
                    findings.append({"stack": stack, "rule": "CREATE_FAILED", "where": d["StackStatus"], "message": d.get("StackStatusReason", "")})
                    continue
                outputs = {o["OutputKey"]: o["OutputValue"] for o in d.get("Outputs", [])}
                checks = {
                    "StateMachineArn": lambda v: client("stepfunctions").describe_state_machine(stateMachineArn=v)["status"],
                    "StateTableName": lambda v: client("dynamodb").describe_table(TableName=v)["Table"]["TableStatus"],
                    "NotificationTopicArn": lambda v: client("sns").get_topic_attributes(TopicArn=v)["Attributes"]["TopicArn"],
                }
                for key in OUTPUTS.values():
                    v = outputs.get(key)
                    if v is None:
                        findings.append({"stack": stack, "rule": "OUTPUT_MISSING", "where": key, "message": f"outputs are {sorted(outputs)}"})
                        continue
                    try:
                        print(f"    {key} = {v} -> {checks[key](v)}")
                    except Exception as e:  # noqa: BLE001
                        findings.append({"stack": stack, "rule": "OUTPUT_DANGLING", "where": key, "message": f"{v}: {type(e).__name__}: {e}"[:400]})
    finally:
        server.stop()
    return triage("moto", findings)


if __name__ == "__main__":
    sys.exit(1 if main([Path(a) for a in sys.argv[1:]]) else 0)
