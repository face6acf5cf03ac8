"""Trust hygiene of a synthesized template: who may assume each role (the invoke role above all)."""

from __future__ import annotations

from typing import Any


def trust_problems(template: dict[str, Any]) -> list[str]:
    """Trust-policy findings of a synthesized template, one line each (empty: clean): a ``*``
    principal, a service principal without ``aws:SourceAccount``, a web identity without ``sub``.

    >>> doc = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "*"}}]}
    >>> role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": doc}}
    >>> trust_problems({"Resources": {"R": role}})
    ['role R trusts a wildcard principal']
    """
    problems = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        document = resource.get("Properties", {}).get("AssumeRolePolicyDocument", {})
        for statement in document.get("Statement", []):
            principal = statement.get("Principal")
            values = [principal] if isinstance(principal, str) else list((principal or {}).items())
            condition = str(statement.get("Condition", {}))
            for value in values:
                kind, names = value if isinstance(value, tuple) else ("*", value)
                names = names if isinstance(names, list) else [names]
                if any(isinstance(name, str) and "*" in name for name in names):
                    problems.append(f"role {logical_id} trusts a wildcard principal")
                elif kind == "Service" and "aws:SourceAccount" not in condition:
                    problems.append(f"role {logical_id} trusts {names} without aws:SourceAccount")
                elif kind == "Federated" and ":sub" not in condition:
                    problems.append(f"role {logical_id} trusts a web identity without a pinned sub")
    return problems
