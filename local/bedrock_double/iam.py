"""A small, pure evaluator of IAM identity-based policies, enough to judge Bedrock calls.

It is written from the IAM documentation, independently of the `stacks` policy builder, so the
double checks the deployed policy rather than echoing it. Supported: `Effect`, `Action` /
`NotAction`, `Resource` / `NotResource` with `*` and `?` wildcards, and `Condition` with the
String*, Arn*, `Null` and `Bool` operators (plus the `...IfExists` suffix and the
`ForAnyValue:` / `ForAllValues:` prefixes). Not supported: policy variables (`${aws:username}`),
numeric and date operators. An operator this module does not know makes an Allow statement not
apply and a Deny statement apply, so an unknown construct can only make the answer stricter.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Document = Mapping[str, Any]


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit_deny"
    EXPLICIT_DENY = "explicit_deny"


@dataclass(frozen=True)
class Result:
    decision: Decision
    sid: str | None = None  # the deciding statement's Sid, when it has one

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


@lru_cache(maxsize=1024)
def _glob(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    parts = ["." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


def wildcard_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    """IAM wildcard matching: ``*`` is any run of characters, ``?`` any one character.

    >>> wildcard_match("bedrock:InvokeModel*", "bedrock:InvokeModelWithResponseStream")
    True
    >>> wildcard_match("bedrock:invoke?odel", "bedrock:InvokeModel", case_sensitive=False)
    True
    >>> wildcard_match("arn:aws:bedrock:us-east-1::*", "arn:aws:bedrock:us-west-2::x")
    False
    """
    return _glob(pattern, case_sensitive).fullmatch(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """ArnLike matching: the six ARN parts are matched one by one, so ``*`` never spans a ``:``
    of the first five parts (the resource part may contain ``:``).

    >>> arn_match("arn:aws:bedrock:*::foundation-model/*", "arn:aws:bedrock:us-east-1::foundation-model/m:0")
    True
    >>> arn_match("arn:aws:bedrock:*", "arn:aws:bedrock:us-east-1::foundation-model/m")
    False
    >>> arn_match("*", "arn:aws:bedrock:us-east-1::foundation-model/m")
    True
    """
    if pattern == "*":
        return True
    want = pattern.split(":", 5)
    have = arn.split(":", 5)
    if len(have) != 6:
        return wildcard_match(pattern, arn)
    if len(want) != 6:
        return False  # a pattern with fewer parts is not a valid ARN pattern: it matches nothing
    return all(wildcard_match(w, h) for w, h in zip(want, have, strict=True))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(wildcard_match(p, action, case_sensitive=False) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(arn_match(p, resource) for p in patterns)


def _compare(base: str, pattern: str, value: str) -> bool | None:
    """One value against one policy value for an operator without IfExists/Not; None = unknown."""
    if base == "StringEquals":
        return pattern == value
    if base == "StringEqualsIgnoreCase":
        return pattern.lower() == value.lower()
    if base == "StringLike":
        return wildcard_match(pattern, value)
    if base in ("ArnEquals", "ArnLike"):
        return arn_match(pattern, value)
    if base == "Bool":
        return pattern.lower() == value.lower()
    return None


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool | None:
    """Whether one condition (operator, key, policy values) holds for the request context.

    Context keys are case-insensitive, as in IAM. A missing key makes a positive operator false
    and a negated operator (``StringNotEquals``, ``ArnNotLike`` ...) true; ``...IfExists`` makes
    a missing key true. Returns None for an operator this module does not know.

    >>> ctx = {"bedrock:InferenceProfileArn": "arn:aws:bedrock:us-east-1:1:inference-profile/us.m"}
    >>> condition_holds("StringEquals", "bedrock:inferenceprofilearn", ctx["bedrock:InferenceProfileArn"], ctx)
    True
    >>> condition_holds("ArnLike", "bedrock:InferenceProfileArn", "arn:aws:bedrock:*:*:inference-profile/eu.*", ctx)
    False
    >>> condition_holds("StringNotEquals", "aws:SourceIp", "1.2.3.4", ctx)
    True
    >>> condition_holds("NumericLessThan", "x", "1", ctx) is None
    True
    """
    lowered = {k.lower(): v for k, v in context.items()}
    present = key.lower() in lowered
    values = [str(v) for v in _as_list(lowered.get(key.lower()))]
    patterns = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(expected)]
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base == "Null":
        # Null: true means "the key is absent"
        return any(p.lower() == ("false" if present else "true") for p in patterns)
    negated = base in _NEGATED
    base = _NEGATED.get(base, base)
    if _compare(base, "", "") is None:
        return None
    if not present:
        return True if if_exists else negated

    def one(value: str) -> bool:
        hit = any(_compare(base, p, value) for p in patterns)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, Any]) -> bool | None:
    unknown = False
    for operator, pairs in conditions.items():
        for key, expected in dict(pairs).items():
            held = condition_holds(operator, key, expected, context)
            if held is None:
                unknown = True
            elif not held:
                return False
    return None if unknown else True


def _statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    effect = statement.get("Effect")
    if "Action" in statement:
        if not _action_matches(_as_list(statement["Action"]), action):
            return False
    elif "NotAction" in statement:
        if _action_matches(_as_list(statement["NotAction"]), action):
            return False
    else:
        return False
    if "Resource" in statement:
        if not _resource_matches(_as_list(statement["Resource"]), resource):
            return False
    elif "NotResource" in statement:
        if _resource_matches(_as_list(statement["NotResource"]), resource):
            return False
    else:
        return False
    held = _conditions_hold(statement.get("Condition") or {}, context)
    if held is None:
        return effect == "Deny"
    return held


def statements(documents: Sequence[Document]) -> list[Mapping[str, Any]]:
    """Every statement of the documents, a lone statement object counting as a list of one."""
    out: list[Mapping[str, Any]] = []
    for document in documents:
        out.extend(_as_list(document.get("Statement")))
    return out


def evaluate(
    documents: Sequence[Document], action: str, resource: str, context: Mapping[str, Any] | None = None
) -> Result:
    """Decide `action` on `resource` under identity policies: an explicit Deny wins, then any
    Allow, else the implicit deny.

    >>> allow = {"Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel*", "Resource": "*"}]}
    >>> evaluate([allow], "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/m").decision
    <Decision.ALLOW: 'allow'>
    >>> deny = {"Statement": {"Sid": "No", "Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}}
    >>> evaluate([allow, deny], "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/m")
    Result(decision=<Decision.EXPLICIT_DENY: 'explicit_deny'>, sid='No')
    >>> evaluate([], "bedrock:InvokeModel", "*").decision
    <Decision.IMPLICIT_DENY: 'implicit_deny'>
    """
    context = context or {}
    allowed_by: Mapping[str, Any] | None = None
    for statement in statements(documents):
        if not _statement_applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Result(Decision.EXPLICIT_DENY, statement.get("Sid"))
        if statement.get("Effect") == "Allow" and allowed_by is None:
            allowed_by = statement
    if allowed_by is not None:
        return Result(Decision.ALLOW, allowed_by.get("Sid"))
    return Result(Decision.IMPLICIT_DENY)
