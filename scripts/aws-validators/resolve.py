"""
Renders CloudFormation intrinsics of a synthesized template into the concrete values CloudFormation would put there
in one example environment (account 123456789012, region us-east-1, partition aws), so that IAM policies and state
machine definitions can be checked as AWS will see them.

  Ref <pseudo parameter>      -> the example environment's value
  Ref <resource>              -> what CloudFormation returns for Ref of that type (a name or an ARN, see REF_IS_ARN)
  Fn::GetAtt <resource>.Arn   -> an ARN of the documented shape for that type, the logical id standing in for the name
  Fn::Join / Fn::Select / Fn::Split / Fn::Sub / Fn::GetAZs -> evaluated
Anything else raises Unresolvable: a checker then reports the policy as skipped, naming the intrinsic, instead of
guessing.
"""
from __future__ import annotations

import re
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}

# Ref of these types returns the ARN; of the others a name (CloudFormation's "Return values" of each type).
REF_IS_ARN = {"AWS::SNS::Topic", "AWS::StepFunctions::StateMachine", "AWS::IAM::ManagedPolicy", "AWS::Scheduler::Schedule"}

# ARN shapes for Fn::GetAtt X.Arn, by resource type ({n} is the logical id, standing in for the physical name).
ARN = {
    "AWS::Lambda::Function": "arn:aws:lambda:{r}:{a}:function:{n}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::DynamoDB::GlobalTable": "arn:aws:dynamodb:{r}:{a}:table/{n}",
    "AWS::IAM::Role": "arn:aws:iam::{a}:role/{n}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{r}:{a}:log-group:{n}:*",
    "AWS::CloudWatch::Alarm": "arn:aws:cloudwatch:{r}:{a}:alarm:{n}",
    "AWS::SNS::Topic": "arn:aws:sns:{r}:{a}:{n}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{r}:{a}:stateMachine:{n}",
    "AWS::Events::Rule": "arn:aws:events:{r}:{a}:rule/{n}",
    "AWS::SQS::Queue": "arn:aws:sqs:{r}:{a}:{n}",
    "AWS::KMS::Key": "arn:aws:kms:{r}:{a}:key/{n}",
}


class Unresolvable(Exception):
    pass


class Resolver:
    def __init__(self, template: dict[str, Any], stack_name: str):
        self.resources: dict[str, Any] = template.get("Resources", {})
        self.parameters: dict[str, Any] = template.get("Parameters", {})
        self.stack_name = stack_name

    def type_of(self, logical_id: str) -> str:
        r = self.resources.get(logical_id)
        if r is None:
            raise Unresolvable(f"reference to unknown resource {logical_id}")
        return r["Type"]

    def ref(self, name: str) -> Any:
        if name == "AWS::StackName":
            return self.stack_name
        if name == "AWS::StackId":
            return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            p = self.parameters[name]
            if "Default" in p and not p["Type"].startswith("AWS::SSM::"):
                return p["Default"]
            raise Unresolvable(f"Ref {name} (parameter without a literal default)")
        t = self.type_of(name)
        return ARN[t].format(r=REGION, a=ACCOUNT, n=name) if t in REF_IS_ARN and t in ARN else name

    def get_att(self, logical_id: str, attr: str) -> Any:
        t = self.type_of(logical_id)
        if attr == "Arn" and t in ARN:
            return ARN[t].format(r=REGION, a=ACCOUNT, n=logical_id)
        if attr == "StreamArn" and t in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            return ARN[t].format(r=REGION, a=ACCOUNT, n=logical_id) + "/stream/2024-01-01T00:00:00.000"
        if attr == "Name" and t in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return logical_id
        raise Unresolvable(f"Fn::GetAtt {logical_id}.{attr} ({t})")

    def resolve(self, v: Any) -> Any:
        if isinstance(v, list):
            return [x for x in (self.resolve(x) for x in v) if x is not None]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (k, x), = v.items()
            if k == "Ref":
                return self.ref(x)
            if k == "Fn::GetAtt":
                lid, attr = x if isinstance(x, list) else x.split(".", 1)
                return self.get_att(lid, attr)
            if k == "Fn::Join":
                sep, parts = x
                return sep.join(str(p) for p in self.resolve(parts))
            if k == "Fn::Select":
                i, arr = x
                return self.resolve(arr)[int(self.resolve(i))]
            if k == "Fn::Split":
                sep, s = x
                return str(self.resolve(s)).split(sep)
            if k == "Fn::GetAZs":
                return [f"{REGION}a", f"{REGION}b", f"{REGION}c"]
            if k == "Fn::Sub":
                text, names = (x, {}) if isinstance(x, str) else (x[0], self.resolve(x[1]))

                def sub(m: re.Match[str]) -> str:
                    key = m.group(1)
                    if key.startswith("!"):
                        return "${" + key[1:] + "}"
                    if key in names:
                        return str(names[key])
                    if "." in key:
                        lid, attr = key.split(".", 1)
                        return str(self.get_att(lid, attr))
                    return str(self.ref(key))

                return re.sub(r"\$\{([^}]+)\}", sub, text)
            if k.startswith("Fn::") or k == "Condition":
                raise Unresolvable(f"{k} {x!r:.80}")
        return {k: self.resolve(x) for k, x in v.items()}
