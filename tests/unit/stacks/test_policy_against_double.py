"""The policy the stack builds, judged by the Bedrock double's IAM evaluator on every route the
catalog documents: for each (offer, source region -> destination) pair the routed call is
allowed, and the same call for another model, or without the profile, is denied."""

from __future__ import annotations

import functools
from dataclasses import replace

import pytest

from local.bedrock_double.iam import evaluate
from local.bedrock_double.model import ACTIONS, IamCheck, Route, route_request
from runtime.catalog.model import load_catalog
from stacks.bedrock_policy import build_statements, policy_document

ACCOUNT = "111122223333"


@functools.cache
def stack_policy(region: str, model: str | None = None) -> dict[str, object]:
    return policy_document(build_statements(load_catalog(), region, ACCOUNT, None if model is None else [model]))


def allowed(document, checks) -> bool:
    return all(evaluate([document], c.action, c.resource, c.context).allowed for c in checks)


def routed_pairs():
    """(model, offer, source, destination) for every route of every offer the runtime uses from
    that source (the first offer listing it), and the shadowed pairs of later offers."""
    catalog = load_catalog()
    used, shadowed = [], []
    for model in catalog:
        if model.is_eol():
            continue
        for offer in model.offers:
            for source, destinations in offer.routes.items():
                pairs = [(model, offer, source, destination) for destination in destinations]
                (used if catalog.offer_for(model, source) is offer else shadowed).extend(pairs)
    return used, shadowed


USED, SHADOWED = routed_pairs()


def target_for(model, offer, source, destination, operation="converse") -> Route:
    return route_request(offer.invoke_id, source, ACCOUNT, operation, load_catalog(), destination=destination)


def as_other_model(target: Route, other_id: str) -> tuple[IamCheck, ...]:
    return tuple(
        replace(
            check,
            resource=check.resource.replace(target.base_model_id, other_id),
            context={k: v.replace(target.base_model_id, other_id) for k, v in check.context.items()},
        )
        for check in target.checks
    )


def test_the_catalog_has_routes_to_check():
    profile_pairs = [p for p in USED if p[1].is_profile]
    assert len(profile_pairs) >= 100
    assert any(p[3] == "*" for p in USED)  # global profiles
    # the routes of the issue: us. from us-west-1 / ca-central-1 route to themselves
    assert {(p[2], p[3]) for p in profile_pairs} >= {("us-west-1", "us-west-1"), ("ca-central-1", "ca-central-1")}


@pytest.mark.parametrize("operation", ["converse", "converse-stream"])
def test_every_routed_call_is_allowed_by_the_stack_policy_of_its_source_region(operation):
    failures = []
    for model, offer, source, destination in USED:
        target = target_for(model, offer, source, destination, operation)
        for document in (stack_policy(source), stack_policy(source, model.name)):
            if not allowed(document, target.checks):
                failures.append((model.name, offer.invoke_id, source, destination))
    assert failures == [], failures[:5]


def test_the_same_route_for_another_model_is_denied():
    catalog = load_catalog()
    active = [m for m in catalog if not m.is_eol()]
    for model, offer, source, destination in USED:
        target = target_for(model, offer, source, destination)
        document = stack_policy(source, model.name)
        for other in active:
            if other.model_id != model.model_id:
                assert not allowed(document, as_other_model(target, other.model_id)), (model.name, other.name, source)


def test_the_bare_foundation_model_without_the_profile_is_denied():
    for model, offer, source, destination in USED:
        document = stack_policy(source, model.name)
        action = ACTIONS["converse"]
        if offer.is_profile:
            regions = {source, destination if destination != "*" else ""}
            for region in regions:
                bare = IamCheck(
                    action,
                    f"arn:aws:bedrock:{region}::foundation-model/{model.model_id}",
                    {"aws:RequestedRegion": region or "unspecified"},
                )
                assert not allowed(document, [bare]), (model.name, offer.invoke_id, source, region)
        else:
            # on-demand: the bare model is the offer, in its own region only
            elsewhere = "us-east-1" if source != "us-east-1" else "us-west-2"
            bare = IamCheck(action, f"arn:aws:bedrock:{elsewhere}::foundation-model/{model.model_id}", {})
            assert not allowed(document, [bare])


def test_a_profile_from_another_source_region_is_denied():
    for model, offer, source, destination in USED:
        if not offer.is_profile:
            continue
        target = target_for(model, offer, source, destination)
        elsewhere = next(r for r in ("us-east-1", "eu-west-1", "ap-northeast-1") if r != source)
        moved = tuple(
            replace(c, resource=c.resource.replace(f":{source}:{ACCOUNT}:", f":{elsewhere}:{ACCOUNT}:"))
            for c in target.checks
        )
        assert not allowed(stack_policy(source, model.name), moved)


def test_shadowed_offers_are_not_granted_least_privilege():
    """From a source region where an earlier offer serves the model, the later offer's profile is
    not granted: the runtime never sends it, so the policy does not allow it."""
    for model, offer, source, destination in SHADOWED:
        target = target_for(model, offer, source, destination)
        assert not allowed(stack_policy(source, model.name), target.checks[:1]), (model.name, offer.invoke_id, source)


def test_pair_counts():
    """The pairs above cover every model the runtime may call, through profiles and on-demand, and
    no pair is both used and shadowed (else the tests above would judge it both ways)."""
    catalog = load_catalog()
    callable_models = {model.name for model in catalog if not model.is_eol() and model.offers}  # not sync-only ones
    assert {model.name for model, _, _, _ in USED} == callable_models
    profiles = sum(1 for _, offer, _, _ in USED if offer.is_profile)
    assert profiles > 0  # the geo/global profile routes are judged, not only on-demand ones
    used = {(model.name, offer.invoke_id, source, destination) for model, offer, source, destination in USED}
    shadowed = {(model.name, offer.invoke_id, source, destination) for model, offer, source, destination in SHADOWED}
    assert len(used) == len(USED) and not used & shadowed
