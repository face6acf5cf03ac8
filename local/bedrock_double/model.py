"""Which model a request names, which IAM checks Bedrock makes for it, and whether they pass.

A call through a cross-Region inference profile is authorized twice, as Bedrock does: once on
the profile (`arn:aws:bedrock:<region>:<account>:inference-profile/<id>`) and once on the
foundation model in the destination Region the call is routed to, with the condition key
`bedrock:InferenceProfileArn` set to the profile's ARN. Global profiles route to the
Region-less `arn:aws:bedrock:::foundation-model/<id>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from local.bedrock_double import iam
from local.bedrock_double.errors import INVALID_MODEL, BedrockError

if TYPE_CHECKING:
    from local.bedrock_double.sigv4 import Caller
    from local.bedrock_double.stores import PolicyStore
    from runtime.catalog import Catalog

ACTIONS = {"converse": "bedrock:InvokeModel", "converse-stream": "bedrock:InvokeModelWithResponseStream"}
OPERATIONS = {"converse": "Converse", "converse-stream": "ConverseStream"}
PROFILE_ARN_KEY = "bedrock:InferenceProfileArn"
REQUESTED_REGION_KEY = "aws:RequestedRegion"


@dataclass(frozen=True)
class Check:
    """One IAM check: the action on a resource, with its request context."""

    action: str
    resource: str
    context: dict[str, str]


@dataclass(frozen=True)
class Target:
    model_id: str  # as the caller sent it (the inference-profile id)
    base_model_id: str
    destination_region: str  # "" for a global profile
    checks: tuple[Check, ...]


def resolve_target(model_id: str, region: str, account: str, operation: str, catalog: Catalog) -> Target:
    """The checks Bedrock makes for `model_id` called in `region`; 400 for an unknown model, a
    profile not offered in that Region, or a bare model id (Claude 4 has no on-demand
    throughput).

    >>> from runtime.catalog import load_catalog
    >>> catalog = load_catalog()
    >>> geo = next(m for m in catalog if not m.is_global)
    >>> t = resolve_target(catalog.profile_id(geo, "us-east-2"), "us-east-2", "1", "converse", catalog)
    >>> t.destination_region, [c.resource.split(":")[3] for c in t.checks]
    ('us-east-2', ['us-east-2', 'us-east-2'])
    """
    found = catalog.by_id.get(model_id)
    if found is None:
        raise BedrockError(400, "ValidationException", INVALID_MODEL)
    model, scope = found
    if not scope:
        raise BedrockError(
            400,
            "ValidationException",
            f"Invocation of model ID {model_id} with on-demand throughput isn't supported. Retry your "
            "request with the ID or ARN of an inference profile that contains this model.",
        )
    if model.is_global:
        destination = ""
    else:
        if scope not in {geo.name for geo in catalog.geographies_for_region(region)}:
            raise BedrockError(400, "ValidationException", INVALID_MODEL)
        destinations = catalog.geographies[scope].destination_regions
        destination = region if region in destinations else destinations[0]
    action = ACTIONS[operation]
    profile_arn = f"arn:aws:bedrock:{region}:{account}:inference-profile/{model_id}"
    model_arn = f"arn:aws:bedrock:{destination}::foundation-model/{model.model_id}"
    # aws:RequestedRegion is the region of each authorization: the caller's for the profile, the
    # destination's for the model, and "unspecified" when a global profile routes the call.
    checks = (
        Check(action, profile_arn, {REQUESTED_REGION_KEY: region}),
        Check(action, model_arn, {PROFILE_ARN_KEY: profile_arn, REQUESTED_REGION_KEY: destination or "unspecified"}),
    )
    return Target(model_id, model.model_id, destination, checks)


def authorize(caller: Caller, target: Target, policy_store: PolicyStore) -> None:
    """Raise 403 AccessDeniedException, worded like AWS, unless every check is allowed."""
    documents = policy_store.documents_for(caller.key.user_arn)
    for check in target.checks:
        result = iam.evaluate(documents, check.action, check.resource, check.context)
        if result.allowed:
            continue
        why = (
            "with an explicit deny in an identity-based policy"
            if result.decision is iam.Decision.EXPLICIT_DENY
            else f"because no identity-based policy allows the {check.action} action"
        )
        raise BedrockError(
            403,
            "AccessDeniedException",
            f"User: {caller.key.user_arn} is not authorized to perform: {check.action} "
            f"on resource: {check.resource} {why}",
        )


def least_privilege_policy(
    catalog: Catalog, model_name: str, region: str, account: str, *, streaming: bool = True
) -> dict[str, object]:
    """A least-privilege policy for one catalog model called from `region`, written from the
    Bedrock documentation (for tests and standalone runs; the product's policy lives in
    `stacks`, which this deliberately does not import).

    >>> from runtime.catalog import load_catalog
    >>> policy = least_privilege_policy(load_catalog(), "claude-sonnet-4.5", "eu-west-1", "1")
    >>> [s["Sid"] for s in policy["Statement"]]
    ['InvokeProfile', 'InvokeRoutedModel']
    """
    from runtime.resolve import find_model

    model = find_model(model_name, catalog)[0]
    profile = catalog.profile_id(model, region)
    profile_arn = f"arn:aws:bedrock:{region}:{account}:inference-profile/{profile}"
    if model.is_global:
        regions: tuple[str, ...] = ("",)
    else:
        regions = catalog.geographies[catalog.scope_for(model, region)].destination_regions
    actions = [ACTIONS["converse"], *([ACTIONS["converse-stream"]] if streaming else [])]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "InvokeProfile", "Effect": "Allow", "Action": actions, "Resource": profile_arn},
            {
                "Sid": "InvokeRoutedModel",
                "Effect": "Allow",
                "Action": actions,
                "Resource": [f"arn:aws:bedrock:{r}::foundation-model/{model.model_id}" for r in regions],
                "Condition": {"StringEquals": {PROFILE_ARN_KEY: profile_arn}},
            },
        ],
    }
