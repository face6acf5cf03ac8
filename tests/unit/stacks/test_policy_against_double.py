"""The policy the stack builds, judged by the Bedrock double's independent IAM evaluator: every
catalog model is callable through its profile, and nothing else is."""

import copy

import pytest

from local.bedrock_double.iam import evaluate
from local.bedrock_double.model import resolve_target
from runtime.catalog import load_catalog
from stacks.bedrock_policy import build_statements

ACCOUNT = "111122223333"


def _allowed(statements, model_id, region, operation="converse"):
    document = {"Version": "2012-10-17", "Statement": statements}
    target = resolve_target(model_id, region, ACCOUNT, operation, load_catalog())
    return all(evaluate([document], c.action, c.resource, c.context).allowed for c in target.checks)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2", "eu-west-1"])
@pytest.mark.parametrize("operation", ["converse", "converse-stream"])
def test_every_catalog_model_is_allowed_through_its_profile(region, operation):
    catalog = load_catalog()
    statements = build_statements(catalog, region, ACCOUNT)
    for model in catalog:
        assert _allowed(statements, catalog.profile_id(model, region), region, operation), model.name


def test_a_model_left_out_of_the_allow_list_is_denied():
    catalog = load_catalog()
    statements = build_statements(catalog, "us-east-1", ACCOUNT, ["claude-large"])
    sonnet = catalog.by_key["claude-sonnet-4-5"]
    assert _allowed(statements, catalog.profile_id(catalog.by_key["claude-large"], "us-east-1"), "us-east-1")
    assert not _allowed(statements, catalog.profile_id(sonnet, "us-east-1"), "us-east-1")


def test_the_policy_of_another_region_is_denied():
    catalog = load_catalog()
    statements = build_statements(catalog, "us-east-1", ACCOUNT)
    model = catalog.by_key["claude-sonnet-4-5"]
    assert not _allowed(statements, catalog.profile_id(model, "eu-west-1"), "eu-west-1")


def test_global_grant_pinned_to_a_region_instead_of_unspecified_is_denied():
    catalog = load_catalog()
    statements = copy.deepcopy(build_statements(catalog, "us-east-1", ACCOUNT, ["claude-large"]))
    profile_id = catalog.profile_id(catalog.by_key["claude-large"], "us-east-1")
    assert _allowed(statements, profile_id, "us-east-1")
    for statement in statements:
        if statement["Sid"].startswith("GlobalModel"):
            statement["Condition"]["StringEquals"]["aws:RequestedRegion"] = "us-east-1"
    assert not _allowed(statements, profile_id, "us-east-1")
