"""The double's model resolution, routing and authorization — judged by the stack's own policy."""

from __future__ import annotations

import copy

import pytest

from local.bedrock_double.errors import BedrockError
from local.bedrock_double.model import (
    PROFILE_ARN_KEY,
    Router,
    authorize,
    check_request_rules,
    check_subscribed,
    route_request,
)
from local.bedrock_double.sigv4 import Caller
from local.bedrock_double.stores import DictPolicyStore, KeyRecord
from stacks.bedrock_policy import build_statements, policy_document

ACCOUNT = "123456789012"
ALICE = KeyRecord("alice", f"arn:aws:iam::{ACCOUNT}:user/alice", "s")
HAIKU = "claude-haiku-4.5"


def stack_policy(catalog, names, region="us-east-1"):
    return policy_document(build_statements(catalog, region, ACCOUNT, names))


def store_for(*documents):
    return DictPolicyStore({ALICE.user_arn: list(documents)})


def caller(region="us-east-1"):
    return Caller("AKIA", ALICE, region, "127.0.0.1")


def test_geo_profile_checks_profile_source_model_and_routed_model(catalog):
    model = catalog.model(HAIKU)
    profile_id = catalog.offer_for(model, "us-west-1").invoke_id
    target = route_request(profile_id, "us-west-1", ACCOUNT, "converse", catalog, destination="us-east-2")
    assert target.destination_region == "us-east-2"
    profile, in_source, routed = target.checks
    assert profile.action == "bedrock:InvokeModel"
    assert profile.resource == f"arn:aws:bedrock:us-west-1:{ACCOUNT}:inference-profile/{profile_id}"
    assert profile.context == {"aws:RequestedRegion": "us-west-1"}
    assert in_source.resource == f"arn:aws:bedrock:us-west-1::foundation-model/{model.model_id}"
    assert routed.resource == f"arn:aws:bedrock:us-east-2::foundation-model/{model.model_id}"
    assert routed.context == {PROFILE_ARN_KEY: profile.resource, "aws:RequestedRegion": "us-east-2"}


def test_global_profile_checks_the_three_resources_aws_names(catalog):
    model = catalog.model("claude-large")
    target = route_request(catalog.offer_for(model, "eu-west-1").invoke_id, "eu-west-1", ACCOUNT, "converse", catalog)
    assert target.destination_region == "*"
    assert [(c.resource.split(":")[3], c.context.get("aws:RequestedRegion")) for c in target.checks] == [
        ("eu-west-1", "eu-west-1"),
        ("eu-west-1", "eu-west-1"),
        ("", "unspecified"),
    ]
    assert PROFILE_ARN_KEY not in target.checks[0].context


def test_round_robin_routing_visits_every_destination_of_the_source(catalog):
    model = catalog.model(HAIKU)
    offer = catalog.offer_for(model, "us-west-1")
    router = Router()
    seen = [
        route_request(offer.invoke_id, "us-west-1", ACCOUNT, "converse", catalog, router).destination_region
        for _ in range(len(offer.routes["us-west-1"]))
    ]
    assert sorted(seen) == sorted(offer.routes["us-west-1"])


def test_seeded_random_routing_is_reproducible_and_stays_on_the_routes(catalog):
    offer = catalog.offer_for(catalog.model(HAIKU), "eu-west-2")
    picks = [Router("random", 7).pick(offer.invoke_id, "eu-west-2", offer.routes["eu-west-2"]) for _ in range(3)]
    assert len(set(picks)) == 1 and picks[0] in offer.routes["eu-west-2"]
    router = Router("random", 7)
    assert {router.pick("p", "eu-west-2", offer.routes["eu-west-2"]) for _ in range(200)} == set(
        offer.routes["eu-west-2"]
    )
    with pytest.raises(Exception, match="routing mode 'sticky' is unknown"):
        Router("sticky")


def test_a_policy_missing_one_destination_fails_only_when_bedrock_routes_there(catalog):
    """The old bug's shape: an exact destination list that lacks one routed region (us-east-2 here;
    the source region is checked on every call, so leaving that out fails always)."""
    model = catalog.model(HAIKU)
    profile_id = catalog.offer_for(model, "us-west-1").invoke_id
    policy = stack_policy(catalog, [HAIKU], "us-west-1")
    short = copy.deepcopy(policy)
    short["Statement"][1]["Resource"] = [
        f"arn:aws:bedrock:{r}::foundation-model/{model.model_id}" for r in ("us-east-1", "us-west-1", "us-west-2")
    ]
    router = Router()
    outcomes = []
    for _ in range(len(catalog.destinations(model, "us-west-1"))):
        target = route_request(profile_id, "us-west-1", ACCOUNT, "converse", catalog, router)
        authorize(caller("us-west-1"), target, store_for(policy))  # the stack's policy: every route
        try:
            authorize(caller("us-west-1"), target, store_for(short))
            outcomes.append("ok")
        except BedrockError as err:
            assert err.error_type == "AccessDeniedException"
            outcomes.append(target.destination_region)
    assert sorted(outcomes) == ["ok", "ok", "ok", "us-east-2"]


@pytest.mark.parametrize("model_id", ["us.anthropic.nope-v1:0", "anthropic.nope", ""])
def test_unknown_model_is_a_validation_error(catalog, model_id):
    with pytest.raises(BedrockError) as info:
        route_request(model_id, "us-east-1", ACCOUNT, "converse", catalog)
    assert (info.value.status, info.value.error_type) == (400, "ValidationException")
    assert info.value.message == "The provided model identifier is invalid."


def test_profile_not_offered_from_the_source_region_is_invalid(catalog):
    eu_profile = catalog.offer_for(catalog.model(HAIKU), "eu-west-1").invoke_id
    with pytest.raises(BedrockError) as info:
        route_request(eu_profile, "us-east-1", ACCOUNT, "converse", catalog)
    assert info.value.error_type == "ValidationException"


def test_bare_model_id_without_on_demand_offer_is_refused(catalog):
    model = catalog.model(HAIKU)
    with pytest.raises(BedrockError) as info:
        route_request(model.model_id, "us-east-1", ACCOUNT, "converse", catalog)
    assert "with on-demand throughput isn\u2019t supported" in info.value.message


def test_end_of_life_model_is_answered_like_bedrock(catalog):
    eol = next(m for m in catalog if m.is_eol())
    profile = eol.offers[0].invoke_id
    source = eol.offers[0].source_regions[0]
    with pytest.raises(BedrockError) as info:
        route_request(profile, source, ACCOUNT, "converse", catalog)
    assert (info.value.status, info.value.error_type) == (404, "ResourceNotFoundException")
    assert info.value.message.startswith("This model version has reached the end of its life.")


def test_rejected_parameter_is_a_validation_exception(catalog):
    strict = next(m for m in catalog if "temperature" in m.request_rules.rejected_params)
    profile = strict.offers[0].invoke_id
    check_request_rules(catalog, profile, {"messages": [], "inferenceConfig": {"maxTokens": 10}})
    with pytest.raises(BedrockError) as info:
        check_request_rules(catalog, profile, {"inferenceConfig": {"temperature": 0.2}})
    assert (info.value.status, info.value.error_type) == (400, "ValidationException")
    assert info.value.message == "`temperature` is deprecated for this model."
    with pytest.raises(BedrockError, match="top_k"):
        check_request_rules(catalog, profile, {"additionalModelRequestFields": {"top_k": 5}})
    lenient = catalog.model(HAIKU)
    check_request_rules(catalog, lenient.offers[0].invoke_id, {"inferenceConfig": {"temperature": 0.2}})


def test_unsupported_thinking_mode_is_a_validation_exception(catalog):
    adaptive_only = next(m for m in catalog if m.request_rules.thinking == ("adaptive",))
    profile = adaptive_only.offers[0].invoke_id
    check_request_rules(catalog, profile, {"additionalModelRequestFields": {"thinking": {"type": "adaptive"}}})
    with pytest.raises(BedrockError, match=r'"thinking\.type\.enabled" is not supported for this model'):
        check_request_rules(
            catalog, profile, {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}}
        )


def test_not_subscribed_model_gets_the_marketplace_access_denied(catalog):
    target = route_request(
        catalog.offer_for(catalog.model(HAIKU), "us-east-1").invoke_id, "us-east-1", ACCOUNT, "converse", catalog
    )
    check_subscribed(target, frozenset())
    with pytest.raises(BedrockError) as info:
        check_subscribed(target, frozenset({target.base_model_id}))
    assert (info.value.status, info.value.error_type) == (403, "AccessDeniedException")
    assert "aws-marketplace:Subscribe" in info.value.message and "try again after" in info.value.message


@pytest.mark.parametrize("op", ["converse", "converse-stream"])
@pytest.mark.parametrize("region", ["us-east-1", "us-west-1", "ca-central-1", "eu-west-2"])
def test_the_stack_policy_allows_its_model_from_each_region(catalog, op, region):
    model = catalog.model(HAIKU)
    store = store_for(stack_policy(catalog, [HAIKU], region))
    target = route_request(catalog.offer_for(model, region).invoke_id, region, ACCOUNT, op, catalog)
    authorize(caller(region), target, store)  # no exception


def test_other_model_is_denied_with_aws_wording(catalog):
    store = store_for(stack_policy(catalog, [HAIKU]))
    other = catalog.model("claude-sonnet-4.5")
    target = route_request(catalog.offer_for(other, "us-east-1").invoke_id, "us-east-1", ACCOUNT, "converse", catalog)
    with pytest.raises(BedrockError) as info:
        authorize(caller(), target, store)
    assert (info.value.status, info.value.error_type) == (403, "AccessDeniedException")
    assert info.value.message == (
        f"User: {ALICE.user_arn} is not authorized to perform: bedrock:InvokeModel on resource: "
        f"{target.checks[0].resource} because no identity-based policy allows the bedrock:InvokeModel action"
    )


def test_streaming_denied_when_policy_lacks_stream_action(catalog):
    policy = stack_policy(catalog, [HAIKU])
    for statement in policy["Statement"]:
        statement["Action"] = ["bedrock:InvokeModel"]
    store = store_for(policy)
    profile = catalog.offer_for(catalog.model(HAIKU), "us-east-1").invoke_id
    authorize(caller(), route_request(profile, "us-east-1", ACCOUNT, "converse", catalog), store)
    with pytest.raises(BedrockError) as info:
        authorize(caller(), route_request(profile, "us-east-1", ACCOUNT, "converse-stream", catalog), store)
    assert "bedrock:InvokeModelWithResponseStream" in info.value.message


def test_model_grant_bound_to_another_profile_is_denied(catalog):
    policy = stack_policy(catalog, [HAIKU])
    policy["Statement"][1]["Condition"] = {
        "StringEquals": {PROFILE_ARN_KEY: "arn:aws:bedrock:us-east-1:1:inference-profile/x"}
    }
    target = route_request(
        catalog.offer_for(catalog.model(HAIKU), "us-east-1").invoke_id, "us-east-1", ACCOUNT, "converse", catalog
    )
    with pytest.raises(BedrockError) as info:
        authorize(caller(), target, store_for(policy))
    assert f"on resource: {target.checks[1].resource} " in info.value.message


def test_explicit_deny_is_named(catalog):
    deny = {"Statement": [{"Effect": "Deny", "Action": "bedrock:*", "Resource": "*"}]}
    target = route_request(
        catalog.offer_for(catalog.model(HAIKU), "us-east-1").invoke_id, "us-east-1", ACCOUNT, "converse", catalog
    )
    with pytest.raises(BedrockError) as info:
        authorize(caller(), target, store_for(stack_policy(catalog, [HAIKU]), deny))
    assert info.value.message.endswith("with an explicit deny in an identity-based policy")
