"""The least-privilege Bedrock invoke policy as plain IAM statement dicts (no CDK import).

`stacks.invoke_policy` turns them into a managed policy. The builders take plain strings (the
account may be a CDK token such as ``stack.account``), so they are tested without synthesizing
anything. Every model id and destination region comes from the runtime catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runtime.catalog import Catalog, Model
from runtime.errors import PortkeyBedrockError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

# Converse needs InvokeModel and ConverseStream needs InvokeModelWithResponseStream; there is no
# separate bedrock:Converse action.
INVOKE_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
PROFILE_ARN_CONDITION_KEY = "bedrock:InferenceProfileArn"
REQUESTED_REGION_CONDITION_KEY = "aws:RequestedRegion"
GLOBAL_REQUESTED_REGION = "unspecified"
POLICY_MODE_LEAST_PRIVILEGE = "least-privilege"
POLICY_MODE_FULL = "full"
POLICY_MODES = (POLICY_MODE_LEAST_PRIVILEGE, POLICY_MODE_FULL)

Statement = dict[str, Any]


class PolicyValidationError(PortkeyBedrockError, ValueError):
    """A generated statement that would grant more than invoking the catalog's models."""


def inference_profile_arn(partition: str, region: str, account: str, profile_id: str) -> str:
    """ARN of a system-defined (cross-Region) inference profile in the source region.

    >>> inference_profile_arn("aws", "us-east-1", "111122223333", "us.anthropic.m-v1:0")
    'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.m-v1:0'
    """
    return f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{profile_id}"


def foundation_model_arn(partition: str, region: str, model_id: str) -> str:
    """ARN of a foundation model; ``region=""`` gives the region-less form of global profiles.

    >>> foundation_model_arn("aws", "eu-west-1", "anthropic.m-v1:0")
    'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.m-v1:0'
    >>> foundation_model_arn("aws", "", "anthropic.m-v1:0")
    'arn:aws:bedrock:::foundation-model/anthropic.m-v1:0'
    """
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def statement_sid(prefix: str, model_name: str) -> str:
    """An IAM ``Sid`` (alphanumeric only) for a model.

    >>> statement_sid("Profile", "claude-sonnet-4.5")
    'ProfileClaudeSonnet45'
    """
    words = "".join(c if c.isalnum() else " " for c in model_name).split()
    return prefix + "".join(word[:1].upper() + word[1:] for word in words)


def model_statements(
    catalog: Catalog, model: Model, region: str, account: str, partition: str = "aws"
) -> list[Statement]:
    """The statements that let a caller in `region` invoke `model` through its profile.

    1. the inference profile in the source region, unconditioned;
    2. the foundation model wherever the profile may route the call, only when the call comes
       through that profile (condition ``bedrock:InferenceProfileArn``); for a global profile
       this is two statements, the source-region model and the region-less one, each also pinned
       by ``aws:RequestedRegion``.

    Resource forms follow AWS's IAM sections for cross-Region inference:
    https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html
    (geo profile: the profile, and the foundation model in the source region and in every
    destination region of the geography) and
    https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html
    (global profile: the profile, the foundation model in the source region, and the region-less
    ``arn:aws:bedrock:::foundation-model/<id>``); see also
    https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-prereq.html for the
    ``bedrock:InferenceProfileArn`` condition.

    >>> from runtime.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> model = catalog.by_key["claude-large"]
    >>> profile, fm, global_fm = model_statements(catalog, model, "us-east-1", "111122223333")
    >>> print(*profile["Resource"], *fm["Resource"], *global_fm["Resource"], sep="\\n")
    arn:aws:bedrock:us-east-1:111122223333:inference-profile/global.anthropic.claude-opus-4-5-20251101-v1:0
    arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0
    arn:aws:bedrock:::foundation-model/anthropic.claude-opus-4-5-20251101-v1:0
    >>> fm["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"] == profile["Resource"][0]
    True
    >>> global_fm["Condition"]["StringEquals"]["aws:RequestedRegion"]
    'unspecified'
    """
    scope = catalog.scope_for(model, region)  # RegionError when the model is not offered here
    profile_arn = inference_profile_arn(partition, region, account, f"{scope}.{model.model_id}")
    through_profile = {PROFILE_ARN_CONDITION_KEY: profile_arn}
    profile_statement: Statement = {
        "Sid": statement_sid("Profile", model.name),
        "Effect": "Allow",
        "Action": list(INVOKE_ACTIONS),
        "Resource": [profile_arn],
    }
    if model.is_global:
        # AWS's global example pins aws:RequestedRegion: the source region for the regional model
        # ARN, and "unspecified" for the region-less one (what Bedrock sets when it routes globally).
        return [
            profile_statement,
            _model_statement(
                "Model",
                model,
                [foundation_model_arn(partition, region, model.model_id)],
                {**through_profile, REQUESTED_REGION_CONDITION_KEY: region},
            ),
            _model_statement(
                "GlobalModel",
                model,
                [foundation_model_arn(partition, "", model.model_id)],
                {**through_profile, REQUESTED_REGION_CONDITION_KEY: GLOBAL_REQUESTED_REGION},
            ),
        ]
    geography = catalog.geographies[scope]  # scope_for only returns defined geographies
    # A source region outside the destination list (e.g. a prefix match) is granted too.
    model_regions = list(dict.fromkeys([*geography.destination_regions, region]))
    arns = [foundation_model_arn(partition, r, model.model_id) for r in model_regions]
    return [profile_statement, _model_statement("Model", model, arns, through_profile)]


def _model_statement(prefix: str, model: Model, resources: list[str], condition: dict[str, str]) -> Statement:
    return {
        "Sid": statement_sid(prefix, model.name),
        "Effect": "Allow",
        "Action": list(INVOKE_ACTIONS),
        "Resource": resources,
        "Condition": {"StringEquals": condition},
    }


def build_statements(
    catalog: Catalog,
    region: str,
    account: str,
    allowed: Iterable[str] | None = None,
    partition: str = "aws",
) -> list[Statement]:
    """Statements for every allowed catalog model (names; None: all), validated.

    >>> from runtime.catalog import load_catalog
    >>> statements = build_statements(load_catalog(), "eu-west-1", "111122223333", ["claude-sonnet-4.5"])
    >>> [s["Sid"] for s in statements]
    ['ProfileClaudeSonnet45', 'ModelClaudeSonnet45']
    >>> statements[0]["Resource"]
    ['arn:aws:bedrock:eu-west-1:111122223333:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0']
    """
    names = None if allowed is None else set(allowed)
    statements: list[Statement] = []
    for model in catalog.models:
        if names is None or model.name in names:
            statements.extend(model_statements(catalog, model, region, account, partition))
    if not statements:
        raise PolicyValidationError(
            f"no catalog model is allowed in {region}; allow at least one of: {', '.join(catalog.names())}"
        )
    validate_statements(statements)
    return statements


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else [value]


def validate_statements(statements: Sequence[Statement]) -> None:
    """Raise :class:`PolicyValidationError` unless every statement only allows the invoke actions
    on exact ARNs (no ``*`` or ``?``, no NotAction/NotResource, no Deny tricks).

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
        for action in _as_list(statement.get("Action")):
            if not isinstance(action, str) or "*" in action or "?" in action:
                raise PolicyValidationError(f"statement {name} grants wildcard action {action!r}; list exact actions")
            if action not in INVOKE_ACTIONS:
                raise PolicyValidationError(
                    f"statement {name} grants {action!r}; only {', '.join(INVOKE_ACTIONS)} are allowed"
                )
        resources = _as_list(statement.get("Resource"))
        if not resources:
            raise PolicyValidationError(f"statement {name} has no Resource; name exact ARNs")
        for resource in resources:
            if not isinstance(resource, str) or "*" in resource or "?" in resource:
                raise PolicyValidationError(f"statement {name} grants wildcard resource {resource!r}; name exact ARNs")
        sid = statement.get("Sid")
        if sid is not None:
            if sid in sids:
                raise PolicyValidationError(f"duplicate Sid {sid!r}; model names must stay distinct")
            sids.add(sid)
