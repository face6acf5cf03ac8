"""Secret hygiene of a synthesized template: no literal credential, no output exposing one."""

from __future__ import annotations

import json
import re
from typing import Any

ACCESS_KEY_TYPE = "AWS::IAM::AccessKey"
SECRET_TYPE = "AWS::SecretsManager::Secret"  # noqa: S105 (a resource type)
# An AWS access key id, and a 40-character secret access key, as literals.
_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")


def _refs(value: Any) -> set[str]:
    """Logical ids a template value refers to through ``Ref`` or ``Fn::GetAtt``."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            found.add(str(getatt[0]))
        for item in value.values():
            found |= _refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= _refs(item)
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def secret_leaks(template: dict[str, Any]) -> list[str]:
    """Problems found, one line each (empty: clean). Names logical ids, never values.

    >>> secret_leaks({"Resources": {"K": {"Type": "AWS::IAM::AccessKey"}},
    ...               "Outputs": {"Id": {"Value": {"Ref": "K"}}}})
    ['output Id exposes access key K']
    >>> secret_leaks({"Resources": {}, "Outputs": {"X": {"Value": "AKIAIOSFODNN7EXAMPLE"}}})
    ['Outputs holds a literal access key id']
    """
    resources = template.get("Resources", {})
    keys = {lid for lid, res in resources.items() if res.get("Type") == ACCESS_KEY_TYPE}
    secrets = {lid for lid, res in resources.items() if res.get("Type") == SECRET_TYPE}
    problems = []
    for name, output in template.get("Outputs", {}).items():
        for lid in sorted(_refs(output.get("Value")) & keys):
            problems.append(f"output {name} exposes access key {lid}")
        if "SecretString" in json.dumps(output) or "SecretAccessKey" in json.dumps(output):
            problems.append(f"output {name} exposes a secret value")
    for section in ("Resources", "Outputs", "Parameters", "Metadata"):
        for text in _strings(template.get(section, {})):
            if _KEY_ID.search(text):
                problems.append(f"{section} holds a literal access key id")
            if "arn:" not in text and _SECRET_KEY.search(text):
                problems.append(f"{section} holds a 40-character secret-like literal")
    for lid in sorted(secrets):
        props = resources[lid].get("Properties", {})
        if "GenerateSecretString" not in props and "SecretString" in props:
            value = props["SecretString"]
            if isinstance(value, str):
                problems.append(f"secret {lid} has a literal SecretString")
            elif keys and not (_refs(value) & keys):
                problems.append(f"secret {lid} is not built from an access key's Ref/GetAtt")
    return list(dict.fromkeys(problems))
