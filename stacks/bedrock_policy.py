"""The least-privilege Bedrock invoke policy as plain IAM statement dicts (no CDK import).

`stacks.constructs.invoke_policy` turns them into a managed policy; the Bedrock double (`local`) judges calls
against the very same statements, so the tests exercise what the stack deploys. The builders take
plain strings (the account may be a CDK token such as ``stack.account``), so they are tested
without synthesizing anything. Every model id, profile id and source region comes from the
runtime catalog (`runtime/catalog/catalog.json`).

Per allowed model and source region, the catalog's offer for that region decides:

* **geographic profile** (``us.``, ``eu.``, ``jp.``, ``au.``, ``apac.`` ...): the profile in the
  source region (exact ARN), and the foundation model in *any* region
  (``arn:${Partition}:bedrock:*::foundation-model/<exact id>``) but only through that exact profile
  (``StringEquals bedrock:InferenceProfileArn`` = the profile's ARN);
* **global profile**: AWS's documented three statements, each pinned with ``aws:RequestedRegion``
  (the profile and the source-region model to the source region, the region-less model to
  ``unspecified``), the models only through the exact profile;
* **on-demand** (in-region, e.g. Amazon Nova): the exact foundation-model ARN in the source region.

Models past end of life are never granted.

Why ``*`` in the region field and not the per-source destination list: the list is AWS's to
change (the catalog once lacked us-west-1 and ca-central-1 as destinations, and calls failed
only when Bedrock happened to route there), and a missing destination is an intermittent
AccessDenied in production. The exact-profile condition already limits the grant to "invoke this
model *through this profile*", and Bedrock alone picks the destination among the profile's
regions, so naming the regions adds no restriction a caller could feel — it only adds a way to
break. AWS's own guidance does the same: the SCP example on
https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html and
https://repost.aws/knowledge-center/bedrock-access-denied-exception use
``arn:aws:bedrock:*::foundation-model/...`` with a ``bedrock:InferenceProfileArn`` condition; the
CDK's ``aws-bedrock-alpha`` ``CrossRegionInferenceProfile.grantInvoke`` grants
``arn:${Partition}:bedrock:*::foundation-model/<id>`` (``grantInvokeAllRegions``,
https://github.com/aws/aws-cdk/blob/main/packages/%40aws-cdk/aws-bedrock-alpha/bedrock/models.ts),
without even the profile condition. The drift check (``python -m runtime catalog check``) still
reports a destination the catalog lacks, so the catalog stays a true record. A side benefit: the
policy stays far below the 6,144-character managed-policy limit
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html) however many
destinations AWS adds.

:func:`validate_statements` accepts that one ``*`` and nothing else.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from runtime.catalog.admission import Admission, admit
from runtime.catalog.model import Catalog, Model, Offer
from runtime.errors import PortkeyBedrockError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# Converse needs InvokeModel and ConverseStream needs InvokeModelWithResponseStream; there is no
# separate bedrock:Converse action.
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
PROFILE_ARN_CONDITION_KEY = "bedrock:InferenceProfileArn"
REQUESTED_REGION_CONDITION_KEY = "aws:RequestedRegion"
GLOBAL_REQUESTED_REGION = "unspecified"
ANY_REGION = "*"
POLICY_MODE_LEAST_PRIVILEGE = "least-privilege"
POLICY_MODE_FULL = "full"
POLICY_MODES = (POLICY_MODE_LEAST_PRIVILEGE, POLICY_MODE_FULL)
POLICY_VERSION = "2012-10-17"
# IAM's limit for a customer managed policy (whitespace not counted):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
MANAGED_POLICY_MAX_CHARS = 6144
# IAM's default quota of managed policies attached to one user (same page)
MAX_MANAGED_POLICIES_PER_USER = 10

Statement = dict[str, Any]

# Short-term Bedrock API keys (stack option api_keys=short-term): using one is the action
# bedrock:CallWithBearerToken, which has no resource type (Resource "*"), narrowed by the condition
# key bedrock:bearerTokenType to SHORT_TERM so long-term keys (IAM service-specific credentials)
# stay denied. https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys-permissions.html
# names of an IAM action, a condition key and its value, not secrets
BEARER_TOKEN_ACTION = "bedrock:CallWithBearerToken"  # noqa: S105
BEARER_TOKEN_TYPE_CONDITION_KEY = "bedrock:bearerTokenType"  # noqa: S105
SHORT_TERM_TOKEN = "SHORT_TERM"  # noqa: S105
BEARER_TOKEN_SID = "ShortTermApiKeys"  # noqa: S105
API_KEYS_OFF = "off"
API_KEYS_SHORT_TERM = "short-term"
API_KEYS_MODES = (API_KEYS_OFF, API_KEYS_SHORT_TERM)

# arn:<partition>:bedrock:*::foundation-model/<model id>; the id itself has no wildcard.
_ANY_REGION_MODEL_ARN = re.compile(r"arn:[^:*?]+:bedrock:\*::foundation-model/(?P<model>[^*?]+)")
# arn:<partition>:bedrock:<region>:<account>:inference-profile/<profile id>, no wildcard anywhere.
_PROFILE_ARN = re.compile(r"arn:[^:*?]+:bedrock:[^:*?]+:[^:*?]+:inference-profile/(?P<profile>[^*?]+)")


class PolicyValidationError(PortkeyBedrockError, ValueError):
    """A generated statement that would grant more than invoking the catalog's models."""


def inference_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    """ARN of a system-defined (cross-Region) inference profile in the source region.

    >>> inference_profile_arn("aws", "us-east-1", "111122223333", "us.anthropic.m-v1:0")
    'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.m-v1:0'
    """
    return f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{profile_id}"


def foundation_model_arn(partition: str, region: str, model_id: str) -> str:
    """ARN of a foundation model; ``region=""`` gives the region-less form of global profiles,
    ``region="*"`` the any-region form granted through a geographic profile.

    >>> foundation_model_arn("aws", "eu-west-1", "anthropic.m-v1:0")
    'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.m-v1:0'
    >>> foundation_model_arn("aws", "", "anthropic.m-v1:0")
    'arn:aws:bedrock:::foundation-model/anthropic.m-v1:0'
    >>> foundation_model_arn("aws", "*", "anthropic.m-v1:0")
    'arn:aws:bedrock:*::foundation-model/anthropic.m-v1:0'
    """
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def statement_sid(prefix: str, model_name: str) -> str:
    """An IAM ``Sid`` (alphanumeric only) for a model.

    >>> statement_sid("Profile", "claude-sonnet-4.5")
    'ProfileClaudeSonnet45'
    """
    words = "".join(c if c.isalnum() else " " for c in model_name).split()
    return prefix + "".join(word[:1].upper() + word[1:] for word in words)


def _statement(sid: str, resources: list[str], condition: dict[str, str] | None = None) -> Statement:
    statement: Statement = {"Sid": sid, "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": resources}
    if condition:
        statement["Condition"] = {"StringEquals": condition}
    return statement


def model_statements(model: Model, offer: Offer, region: str, account: str, partition: str = "aws") -> list[Statement]:
    """The statements that let a caller in `region` invoke `model` through `offer`, its offer from
    `region` (``runtime.catalog.admission.Admission.offer``; see the module docstring).

    Resource forms follow AWS's IAM sections for cross-Region inference:
    https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html,
    https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html
    (global: the profile and the source-region model pinned to the source region, the
    region-less ``arn:aws:bedrock:::foundation-model/<id>`` pinned to ``unspecified``) and
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html for the
    ``bedrock:InferenceProfileArn`` condition.

    >>> from runtime.catalog.model import load_catalog
    >>> catalog = load_catalog()
    >>> model = catalog.model("claude-large")
    >>> offer = catalog.offer_for(model, "us-east-1")
    >>> profile, fm, global_fm = model_statements(model, offer, "us-east-1", "111122223333")
    >>> print(*profile["Resource"], *fm["Resource"], *global_fm["Resource"], sep="\\n")
    arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.anthropic.claude-opus-4-5-20251101-v1:0
    arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0
    arn:aws:bedrock:::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0
    >>> fm["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"] == profile["Resource"][0]
    True
    >>> global_fm["Condition"]["StringEquals"]["aws:RequestedRegion"]
    'unspecified'
    """
    if not offer.is_profile or offer.profile_id is None:
        # In-region on-demand: the caller names the foundation model itself, in its own region.
        return [
            _statement(statement_sid("OnDemand", model.name), [foundation_model_arn(partition, region, model.model_id)])
        ]
    profile_arn = inference_profile_arn(partition, region, account, offer.profile_id)
    through_profile = {PROFILE_ARN_CONDITION_KEY: profile_arn}
    if offer.is_global:
        # AWS's global example pins aws:RequestedRegion: the source region on the profile and the
        # source-region model, "unspecified" on the region-less model (what Bedrock sets when it
        # routes the call globally).
        return [
            _statement(statement_sid("Profile", model.name), [profile_arn], {REQUESTED_REGION_CONDITION_KEY: region}),
            _statement(
                statement_sid("Model", model.name),
                [foundation_model_arn(partition, region, model.model_id)],
                {**through_profile, REQUESTED_REGION_CONDITION_KEY: region},
            ),
            _statement(
                statement_sid("GlobalModel", model.name),
                [foundation_model_arn(partition, "", model.model_id)],
                {**through_profile, REQUESTED_REGION_CONDITION_KEY: GLOBAL_REQUESTED_REGION},
            ),
        ]
    return [
        _statement(statement_sid("Profile", model.name), [profile_arn]),
        _statement(
            statement_sid("Model", model.name),
            [foundation_model_arn(partition, ANY_REGION, model.model_id)],
            through_profile,
        ),
    ]


def build_statements(
    catalog: Catalog,
    regions: str | Sequence[str],
    account: str,
    allowed: Admission | Iterable[str] | str | None = None,
    partition: str = "aws",
    api_keys: str = API_KEYS_OFF,
) -> list[Statement]:
    """The one policy builder: the stack deploys it, and the Bedrock double, e2e and load tests
    judge calls by it. `regions` is the source region (a name) or regions (in order) the key may
    call Bedrock from: Bedrock counts on-demand quotas per *source* region, also for
    cross-Region profiles, so two source regions give twice the quota.

    The models are `allowed` as `runtime.catalog.admission.admit` admits them from every one of
    `regions` (names or aliases, ``"all"`` or None: every model offered there and not past end
    of life), or an :class:`~runtime.catalog.admission.Admission` already made (``StackConfig.admission``).
    Per region the grants are :func:`model_statements`; the first region keeps its Sids (a
    one-region policy is the same whatever else is listed), the others get the region appended
    (``ModelClaudeSonnet45UsWest2``); identical statements are kept once and the profile grants
    that share a condition are merged (:func:`merge_profile_statements`). ``api_keys="short-term"``
    adds :func:`short_term_api_key_statement`, once. The result is validated
    (:func:`validate_statements`) and must fit the managed policies IAM attaches to one user.

    >>> from runtime.catalog.model import load_catalog
    >>> statements = build_statements(load_catalog(), "eu-west-1", "111122223333", ["claude-sonnet-4.5"])
    >>> [s["Sid"] for s in statements]
    ['ProfileClaudeSonnet45', 'ModelClaudeSonnet45']
    >>> statements[0]["Resource"]
    ['arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0']
    >>> statements[1]["Resource"]
    ['arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0']
    >>> merged = build_statements(load_catalog(), ["us-east-1", "us-west-2"], "111122223333", ["claude-haiku-4.5"])
    >>> [s["Sid"] for s in merged]
    ['Profiles', 'ModelClaudeHaiku45', 'ModelClaudeHaiku45UsWest2']
    """
    chosen = (regions,) if isinstance(regions, str) else tuple(dict.fromkeys(regions))
    if not chosen:
        raise PolicyValidationError("no source region given; name at least one (e.g. us-east-1)")
    if api_keys not in API_KEYS_MODES:
        raise PolicyValidationError(f"api_keys={api_keys!r} is unknown; use one of {', '.join(API_KEYS_MODES)}")
    admission = allowed if isinstance(allowed, Admission) else admit(allowed, chosen, catalog=catalog)
    combined: list[Statement] = []
    seen: set[str] = set()
    for index, region in enumerate(chosen):
        grants = [
            statement
            for model in admission.models
            for statement in model_statements(model, admission.offer(model.name, region), region, account, partition)
        ]
        for statement in merge_profile_statements(grants):
            key = repr({k: v for k, v in statement.items() if k != "Sid"})
            if key in seen:
                continue  # the same grant from another region: once is enough
            seen.add(key)
            if index:
                statement = {**statement, "Sid": f"{statement['Sid']}{region_suffix(region)}"}
            combined.append(statement)
    statements = merge_profile_statements(combined)
    if api_keys == API_KEYS_SHORT_TERM:
        statements.append(short_term_api_key_statement())
    validate_statements(statements)
    parts = len(split_statements(statements))
    if parts > MAX_MANAGED_POLICIES_PER_USER:
        raise PolicyValidationError(
            f"{len(chosen)} source regions need {parts} managed policies, more than the "
            f"{MAX_MANAGED_POLICIES_PER_USER} IAM attaches to one user; list fewer source_regions or allowed_models"
        )
    return statements


def region_suffix(region: str) -> str:
    """The Sid suffix of a source region.

    >>> region_suffix("us-west-2")
    'UsWest2'
    """
    return statement_sid("", region)


def short_term_api_key_statement() -> Statement:
    """Allow calls made with a *short-term* Bedrock API key of this identity (never a long-term one);
    what the key may invoke is still decided by the model statements.

    >>> short_term_api_key_statement()["Condition"]
    {'StringEquals': {'bedrock:bearerTokenType': 'SHORT_TERM'}}
    """
    return {
        "Sid": BEARER_TOKEN_SID,
        "Effect": "Allow",
        "Action": [BEARER_TOKEN_ACTION],
        "Resource": "*",
        "Condition": {"StringEquals": {BEARER_TOKEN_TYPE_CONDITION_KEY: SHORT_TERM_TOKEN}},
    }


def is_short_term_api_key_statement(statement: Statement) -> bool:
    """Exactly :func:`short_term_api_key_statement` (any Sid): the one statement the validator lets
    grant ``bedrock:CallWithBearerToken`` and the one ``Resource: "*"``.

    >>> is_short_term_api_key_statement(short_term_api_key_statement())
    True
    >>> is_short_term_api_key_statement({**short_term_api_key_statement(), "Condition": None})
    False
    """
    expected = short_term_api_key_statement()
    return (
        set(statement) <= {*expected}
        and statement.get("Effect") == "Allow"
        and _as_list(statement.get("Action")) == [BEARER_TOKEN_ACTION]
        and _as_list(statement.get("Resource")) == ["*"]
        and statement.get("Condition") == expected["Condition"]
    )


def merge_profile_statements(statements: Sequence[Statement]) -> list[Statement]:
    """One statement for all profile grants with the same condition (``Profiles`` for geographic
    profiles, ``GlobalProfiles`` for the global ones pinned to the source region): the same
    exact ARNs and conditions, fewer characters, so the managed policy stays under IAM's
    6,144-character limit as the catalog grows. Foundation-model statements stay one per model,
    each bound to its own profile. A single profile statement keeps its per-model Sid.

    >>> merged = merge_profile_statements([
    ...     {"Sid": "ProfileA", "Resource": ["p/a"]}, {"Sid": "ModelA", "Resource": ["m/a"]},
    ...     {"Sid": "ProfileB", "Resource": ["p/b"]}])
    >>> [(s["Sid"], s["Resource"]) for s in merged]
    [('Profiles', ['p/a', 'p/b']), ('ModelA', ['m/a'])]
    """
    groups: dict[str, list[Statement]] = {}
    others: list[Statement] = []
    for statement in statements:
        if str(statement.get("Sid", "")).startswith("Profile"):
            key = repr(sorted((statement.get("Condition") or {}).items()))
            groups.setdefault(key, []).append(statement)
        else:
            others.append(statement)
    merged: list[Statement] = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        first = dict(group[0])
        first["Sid"] = "GlobalProfiles" if "Condition" in first else "Profiles"
        first["Resource"] = [r for statement in group for r in statement["Resource"]]
        merged.append(first)
    return merged + others


def policy_size(statements: Sequence[Statement]) -> int:
    """Characters IAM counts for a policy document of `statements` (whitespace excluded). With
    CDK tokens for the account/partition the count is an upper bound: a token's text is longer
    than the value CloudFormation puts in its place.

    >>> policy_size([])
    39
    """
    import json

    return len("".join(json.dumps(policy_document(statements)).split()))


def split_statements(statements: Sequence[Statement], limit: int = MANAGED_POLICY_MAX_CHARS) -> list[list[Statement]]:
    """The statements in order, cut into as few documents as fit IAM's managed-policy size limit
    each (a user may hold 10 managed policies; the grants are the union of them).

    >>> [len(part) for part in split_statements([{"Sid": "A" * 40}] * 5, limit=150)]
    [2, 2, 1]
    """
    parts: list[list[Statement]] = [[]]
    for statement in statements:
        if parts[-1] and policy_size([*parts[-1], statement]) > limit:
            parts.append([])
        parts[-1].append(statement)
        if policy_size(parts[-1]) > limit:
            raise PolicyValidationError(
                f"statement {statement.get('Sid')} alone exceeds IAM's {limit}-character policy limit"
            )
    return parts


def policy_document(statements: Sequence[Statement]) -> dict[str, Any]:
    """The statements as an identity-policy document (what the double evaluates in unit tests).

    >>> policy_document([])["Version"]
    '2012-10-17'
    """
    return {"Version": POLICY_VERSION, "Statement": [dict(s) for s in statements]}


def check_policy_mode(mode: str) -> str:
    """The mode itself when known, else :class:`PolicyValidationError`.

    >>> check_policy_mode("full")
    'full'
    >>> check_policy_mode("admin")
    Traceback (most recent call last):
    ...
    stacks.bedrock_policy.PolicyValidationError: policy mode 'admin' is unknown; use one of: least-privilege, full
    """
    if mode not in POLICY_MODES:
        raise PolicyValidationError(f"policy mode {mode!r} is unknown; use one of: {', '.join(POLICY_MODES)}")
    return mode


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _has_wildcard(value: object) -> bool:
    return not isinstance(value, str) or "*" in value or "?" in value


def _exact_profile_condition(statement: Statement, model_id: str) -> bool:
    """True when the statement's only condition operator is StringEquals and it pins
    ``bedrock:InferenceProfileArn`` to one wildcard-free inference-profile ARN of `model_id`."""
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or set(condition) != {"StringEquals"}:
        return False
    equals = condition["StringEquals"]
    if not isinstance(equals, dict):
        return False
    profile_arn = equals.get(PROFILE_ARN_CONDITION_KEY)
    if not isinstance(profile_arn, str):
        return False
    match = _PROFILE_ARN.fullmatch(profile_arn)
    # a system-defined profile id is "<scope>.<model id>" (us.anthropic..., global.anthropic...)
    return match is not None and match["profile"].split(".", 1)[-1] == model_id


def validate_statements(statements: Sequence[Statement]) -> None:
    """Raise :class:`PolicyValidationError` unless every statement only allows the invoke actions
    on exact ARNs: no NotAction/NotResource/Principal, no ``?``, no duplicate Sid, no wildcard in
    an action, a condition value or a resource, with one exception — ``*`` as the *region* of a
    foundation-model ARN with an exact model id, in a statement whose condition is
    ``StringEquals bedrock:InferenceProfileArn`` = one exact inference-profile ARN of that model.

    >>> validate_statements([{"Effect": "Allow", "Action": ["bedrock:*"], "Resource": ["arn:x"]}])
    Traceback (most recent call last):
    ...
    stacks.bedrock_policy.PolicyValidationError: statement 0 grants wildcard action 'bedrock:*'; list exact actions
    """
    sids: set[str] = set()
    for index, statement in enumerate(statements):
        name = statement.get("Sid", index)
        if statement.get("Effect") != "Allow":
            raise PolicyValidationError(f"statement {name} is not an Allow; the builder only allows")
        for key in ("NotAction", "NotResource", "Principal", "NotPrincipal"):
            if key in statement:
                raise PolicyValidationError(f"statement {name} uses {key}; use exact Action/Resource")
        if is_short_term_api_key_statement(statement):
            _check_sid(statement, sids)
            continue
        if BEARER_TOKEN_ACTION in _as_list(statement.get("Action")):
            raise PolicyValidationError(
                f"statement {name} grants {BEARER_TOKEN_ACTION} other than alone with StringEquals "
                f"{BEARER_TOKEN_TYPE_CONDITION_KEY} = {SHORT_TERM_TOKEN}; long-term API keys stay denied "
                "(use short_term_api_key_statement())"
            )
        for action in _as_list(statement.get("Action")):
            if _has_wildcard(action):
                raise PolicyValidationError(f"statement {name} grants wildcard action {action!r}; list exact actions")
            if action not in INVOKE_ACTIONS:
                raise PolicyValidationError(
                    f"statement {name} grants {action!r}; only {', '.join(INVOKE_ACTIONS)} are allowed"
                )
        resources = _as_list(statement.get("Resource"))
        if not resources or statement.get("Resource") is None:
            raise PolicyValidationError(f"statement {name} has no Resource; name exact ARNs")
        for resource in resources:
            if not _has_wildcard(resource):
                continue
            match = _ANY_REGION_MODEL_ARN.fullmatch(resource) if isinstance(resource, str) else None
            if match is None:
                raise PolicyValidationError(
                    f"statement {name} grants wildcard resource {resource!r}; name exact ARNs "
                    "(only the region of a foundation-model ARN may be *)"
                )
            if not _exact_profile_condition(statement, match["model"]):
                raise PolicyValidationError(
                    f"statement {name} grants {resource!r} without StringEquals {PROFILE_ARN_CONDITION_KEY} "
                    "= that model's exact inference-profile ARN; add the condition or name exact regions"
                )
        for operator, pairs in (statement.get("Condition") or {}).items():
            for key, value in (pairs or {}).items():
                for item in _as_list(value):
                    if _has_wildcard(item):
                        raise PolicyValidationError(
                            f"statement {name} has a wildcard in condition {operator} {key}={item!r}; use exact values"
                        )
        _check_sid(statement, sids)


def _check_sid(statement: Statement, sids: set[str]) -> None:
    sid = statement.get("Sid")
    if sid is not None:
        if sid in sids:
            raise PolicyValidationError(f"duplicate Sid {sid!r}; model names must stay distinct")
        sids.add(sid)
