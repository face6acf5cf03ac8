"""cfn-lint and parliament over a synthesized template (cdk-nag runs inside synth itself).

Both tools are dev dependencies, imported lazily. Findings come back as one line each.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from stacks.bedrock_policy import is_short_term_api_key_statement

# Placeholder values for CloudFormation pseudo parameters when a policy is rendered for linting.
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "111122223333",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::URLSuffix": "amazonaws.com",
}


def render(value: Any, pseudo: dict[str, str] | None = None) -> Any:
    """Resolve ``Fn::Join`` and pseudo-parameter ``Ref`` so a policy reads as plain JSON; other
    references become ``${LogicalId}`` / ``${LogicalId.Attr}``.

    >>> render({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]})
    'arn:aws:iam::111122223333:root'
    >>> render({"Fn::GetAtt": ["User", "Arn"]})
    '${User.Arn}'
    """
    pseudo = PSEUDO_PARAMETERS if pseudo is None else pseudo
    if isinstance(value, list):
        return [render(item, pseudo) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(str(render(part, pseudo)) for part in parts)
    if "Ref" in value:
        return pseudo.get(value["Ref"], f"${{{value['Ref']}}}")
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    return {key: render(item, pseudo) for key, item in value.items()}


def cfn_lint_errors(template: dict[str, Any], regions: tuple[str, ...] = ("us-east-1",)) -> list[str]:
    """cfn-lint matches of severity error (``E`` rules) as ``"E3012 message (path)"``."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=list(regions)))
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E") or m.rule.severity == "error"]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _excused_mismatch(statement: dict[str, Any], detail: list[dict[str, str]]) -> bool:
    """parliament's RESOURCE_MISMATCH demands every resource type an action *may* take
    (InvokeModel lists foundation-model, inference-profile, imported-model, ...), and rejects a
    ``:`` in the resource id, which every Bedrock model id (``...-v1:0``) has. The finding is
    excused only if each resource matches one of the action's documented formats (plain glob
    match, so the region-less global foundation-model ARN counts too) and the statement passes
    our own validator: exact ARNs, the one ``*`` allowed being the region of a foundation-model
    ARN bound by ``StringEquals bedrock:InferenceProfileArn`` to that model's exact profile."""
    from stacks.bedrock_policy import PolicyValidationError, validate_statements

    formats = [item["required_format"] for item in detail]
    # parliament leaves out of `detail` the format a resource did match (seen with ':'-free ids such
    # as anthropic.claude-sonnet-4-6), so the two documented formats we grant are added back
    formats += ["arn:*:bedrock:*:*:inference-profile/*", "arn:*:bedrock:*::foundation-model/*"]
    resources = statement.get("Resource", [])
    resources = resources if isinstance(resources, list) else [resources]
    try:
        validate_statements([statement])
    except PolicyValidationError:
        return False
    return bool(resources) and all(
        isinstance(resource, str) and any(fnmatch.fnmatchcase(resource, fmt) for fmt in formats if fmt != "*")
        for resource in resources
    )


def parliament_errors(document: dict[str, Any]) -> list[str]:
    """parliament findings for a rendered policy document, minus its two known false positives
    for Bedrock: the RESOURCE_MISMATCH quirk (see `_excused_mismatch`) and
    MISMATCHED_TYPE_BUT_USABLE for ``StringEquals`` on the ARN-typed ``bedrock:InferenceProfileArn``
    (the form AWS's cross-Region inference pages use)."""
    from parliament import analyze_policy_string

    errors = []
    for index, statement in enumerate(_statements(document)):
        single = {"Version": document.get("Version", "2012-10-17"), "Statement": [statement]}
        for finding in analyze_policy_string(json.dumps(single)).findings:
            if finding.issue == "MISMATCHED_TYPE_BUT_USABLE":
                continue
            # parliament's bundled IAM definitions predate bedrock:CallWithBearerToken (2025); excused
            # only in the exact short-term API key statement the policy builder makes
            if finding.issue == "UNKNOWN_ACTION" and is_short_term_api_key_statement(statement):
                continue
            if finding.issue == "RESOURCE_MISMATCH" and _excused_mismatch(statement, finding.detail):
                continue
            errors.append(f"statement {statement.get('Sid', index)}: {finding.issue} {finding.detail}")
    return errors


def policy_documents(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rendered identity-policy documents of a template, by logical id."""
    documents = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            documents[logical_id] = render(resource["Properties"]["PolicyDocument"])
    return documents


def scan(template: dict[str, Any]) -> list[str]:
    """Every cfn-lint error and parliament finding of a template (empty: clean)."""
    problems = cfn_lint_errors(template)
    for logical_id, document in policy_documents(template).items():
        problems.extend(f"{logical_id} {error}" for error in parliament_errors(document))
    return problems
