"""Which model a request names, where Bedrock routes it, which IAM checks Bedrock makes for it,
and whether they pass.

The double has no policy of its own: it judges each call against the identity policies in its
policy store, which hold what `stacks.bedrock_policy.build_statements` produced (deployed through
CloudFormation into moto, or put in a `DictPolicyStore` by tests).

Checks per call, after AWS's IAM sections for cross-Region inference:

* geographic profile (https://docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html):
  the profile in the source region; the foundation model in the source region and in the
  destination region the call is routed to (drawn from the catalog's per-source routing table),
  both with ``bedrock:InferenceProfileArn`` = the profile's ARN;
* global profile (https://docs.aws.amazon.com/bedrock/latest/userguide/global-cross-region-inference.html:
  "Amazon Bedrock evaluates authorization for the inference profile resource, the foundation
  model in the source Region, and the Region-agnostic global foundation model ARN ..., for which
  aws:RequestedRegion is unspecified. The bedrock:InferenceProfileArn condition key is populated
  for the foundation model resource evaluations, but not for the inference profile");
* on-demand (in-region) model: the foundation model in the source region, no profile key.

``aws:RequestedRegion`` is the source region for the profile and the source-region model, the
destination region for a routed model, ``unspecified`` for the region-less global model.
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local.bedrock_double import iam
from local.bedrock_double.errors import (
    END_OF_LIFE,
    INVALID_MODEL,
    MARKETPLACE_ACCESS_DENIED,
    ON_DEMAND_NOT_SUPPORTED,
    BedrockError,
)
from runtime.catalog.model import ANY_COMMERCIAL_REGION
from runtime.catalog.request_rules import converse_view, first_violation

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from local.bedrock_double.sigv4 import Caller
    from local.bedrock_double.stores import PolicyStore
    from runtime.catalog.model import Catalog, Model, Offer

ACTIONS = {"converse": "bedrock:InvokeModel", "converse-stream": "bedrock:InvokeModelWithResponseStream"}
OPERATIONS = {"converse": "Converse", "converse-stream": "ConverseStream"}
PROFILE_ARN_KEY = "bedrock:InferenceProfileArn"
REQUESTED_REGION_KEY = "aws:RequestedRegion"
GLOBAL_REQUESTED_REGION = "unspecified"
ROUTING_MODES = ("round-robin", "random")


@dataclass(frozen=True)
class IamCheck:
    """One IAM check: the action on a resource, with its request context."""

    action: str
    resource: str
    context: dict[str, str]


@dataclass(frozen=True)
class Route:
    model_id: str  # as the caller sent it (profile id, or foundation-model id for on-demand)
    base_model_id: str
    destination_region: str  # "*" for a global profile (any commercial Region)
    checks: tuple[IamCheck, ...]


def route_candidates(offer: Offer, source_region: str) -> tuple[str, ...]:
    """The destinations Bedrock may serve a call of `offer` from `source_region` in: the
    catalog's routing table (``("*",)`` for a global profile); empty when not offered there.

    >>> from runtime.catalog.model import load_catalog
    >>> catalog = load_catalog()
    >>> route_candidates(catalog.offer_for(catalog.model("claude-large"), "us-east-1"), "us-east-1")
    ('*',)
    """
    return offer.destinations(source_region)


class Router:
    """Picks the destination of each profile call among the catalog's routes for its source:
    ``round-robin`` (per profile and source, deterministic) or ``random`` (seeded)."""

    def __init__(self, mode: str = "round-robin", seed: int = 0) -> None:
        if mode not in ROUTING_MODES:
            from runtime.errors import ConfigError

            raise ConfigError(f"routing mode {mode!r} is unknown; use one of: {', '.join(ROUTING_MODES)}")
        self.mode = mode
        self.seed = seed
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - routing simulation, not security
        self._cycles: dict[tuple[str, str], itertools.cycle[str]] = {}

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "seed": self.seed}

    def pick(self, invoke_id: str, source_region: str, candidates: Sequence[str]) -> str:
        """
        >>> router = Router()
        >>> [router.pick("p", "us-west-1", ("us-east-1", "us-west-1")) for _ in range(3)]
        ['us-east-1', 'us-west-1', 'us-east-1']
        """
        with self._lock:
            if self.mode == "random":
                return self._random.choice(list(candidates))
            key = (invoke_id, source_region)
            if key not in self._cycles:
                self._cycles[key] = itertools.cycle(tuple(candidates))
            return next(self._cycles[key])


def checks_for(
    model: Model, offer: Offer, source_region: str, destination: str, account: str, action: str
) -> tuple[IamCheck, ...]:
    """The IAM checks Bedrock makes for a call of `offer` from `source_region` served in
    `destination` (see the module docstring).

    >>> from runtime.catalog.model import load_catalog
    >>> catalog = load_catalog()
    >>> model = catalog.model("claude-large")
    >>> offer = catalog.offer_for(model, "eu-west-1")
    >>> [c.resource.split(":")[3] for c in checks_for(model, offer, "eu-west-1", "*", "1", "bedrock:InvokeModel")]
    ['eu-west-1', 'eu-west-1', '']
    """
    fm = f"arn:aws:bedrock:{{}}::foundation-model/{model.model_id}"
    if not offer.is_profile:
        return (IamCheck(action, fm.format(source_region), {REQUESTED_REGION_KEY: source_region}),)
    profile_arn = f"arn:aws:bedrock:{source_region}:{account}:inference-profile/{offer.profile_id}"
    profile = IamCheck(action, profile_arn, {REQUESTED_REGION_KEY: source_region})
    in_source = IamCheck(
        action, fm.format(source_region), {PROFILE_ARN_KEY: profile_arn, REQUESTED_REGION_KEY: source_region}
    )
    if offer.is_global:
        regionless = IamCheck(
            action, fm.format(""), {PROFILE_ARN_KEY: profile_arn, REQUESTED_REGION_KEY: GLOBAL_REQUESTED_REGION}
        )
        return (profile, in_source, regionless)
    routed = IamCheck(action, fm.format(destination), {PROFILE_ARN_KEY: profile_arn, REQUESTED_REGION_KEY: destination})
    return (profile, in_source) if destination == source_region else (profile, in_source, routed)


def route_request(
    model_id: str,
    region: str,
    account: str,
    operation: str,
    catalog: Catalog,
    router: Router | None = None,
    *,
    destination: str | None = None,
    day: str | None = None,
) -> Route:
    """The checks Bedrock makes for `model_id` called in `region`, the destination drawn by
    `router` (or forced with `destination`, which must be one of the routes). Errors as Bedrock
    answers them: an unknown id, or a profile not offered in that Region (400); a bare id with no
    on-demand offer (400); a model past end of life (404, see `errors.END_OF_LIFE`).

    >>> from runtime.catalog.model import load_catalog
    >>> catalog = load_catalog()
    >>> t = route_request(catalog.offer_for(catalog.model("claude-haiku-4.5"), "us-west-1").invoke_id, "us-west-1", "1",
    ...                    "converse", catalog, destination="us-east-2")
    >>> t.destination_region, [c.resource.split(":")[3] for c in t.checks]
    ('us-east-2', ['us-west-1', 'us-west-1', 'us-east-2'])
    """
    hit = catalog.lookup_id(model_id)
    if hit is None:
        raise BedrockError(400, "ValidationException", INVALID_MODEL)
    model, offer = hit
    if model.is_eol(day):
        raise BedrockError(404, "ResourceNotFoundException", END_OF_LIFE)
    if offer is None:
        raise BedrockError(400, "ValidationException", ON_DEMAND_NOT_SUPPORTED.format(model_id=model_id))
    candidates = route_candidates(offer, region)
    if not candidates:
        raise BedrockError(400, "ValidationException", INVALID_MODEL)
    if destination is None:
        destination = region if not offer.is_profile else (router or Router()).pick(offer.invoke_id, region, candidates)
    elif destination not in candidates:
        raise ValueError(f"{destination} is not a route of {model_id} from {region}: {', '.join(candidates)}")
    if offer.is_global:
        destination = ANY_COMMERCIAL_REGION
    checks = checks_for(model, offer, region, destination, account, ACTIONS[operation])
    return Route(model_id, model.model_id, destination, checks)


def check_request_rules(catalog: Catalog, model_id: str, body: Mapping[str, Any]) -> None:
    """400 ValidationException, in Bedrock's words, for a Converse body that breaks the model's
    catalog ``request_rules``: the runtime's one checker (:func:`runtime.catalog.request_rules.first_violation`)
    on the body's :func:`~runtime.catalog.request_rules.converse_view`."""
    hit = catalog.lookup_id(model_id)
    if hit is None:
        return
    violation = first_violation(hit[0], converse_view(body))
    if violation is not None:
        raise BedrockError(violation.status, "ValidationException", violation.message)


def authorize(caller: Caller, target: Route, policy_store: PolicyStore) -> None:
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
            f"User: {caller.key.caller_arn} is not authorized to perform: {check.action} "
            f"on resource: {check.resource} {why}",
        )


def check_subscribed(target: Route, unsubscribed: frozenset[str]) -> None:
    """403 with Bedrock's Marketplace wording when the model's subscription is simulated missing."""
    if target.base_model_id in unsubscribed:
        raise BedrockError(403, "AccessDeniedException", MARKETPLACE_ACCESS_DENIED)
