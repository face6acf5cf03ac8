"""The typed context config: defaults, parsing, and one clear line per bad value (fast)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from runtime.catalog.model import load_catalog
from runtime.constants import DEFAULT_STACK_NAME
from runtime.errors import ConfigError, PortkeyBedrockError
from stacks.app import CDK_JSON, cdk_json_context
from stacks.config import CONTEXT_KEYS, StackConfig


class FakeNode:
    def __init__(self, context):
        self.context = context

    def try_get_context(self, key):
        return self.context.get(key)


def config(environ=None, **context):
    return StackConfig.from_mapping(context, environ=environ or {})


def test_cdk_json_holds_the_defaults_and_they_match_the_dataclass():
    context = cdk_json_context()
    # The serials are the deployed stack's (looked up by app.py), never a cdk.json default: a default
    # would be indistinguishable from an explicit -c and would swap a rotated key back.
    serial_keys = {"access_key_serial", "retained_access_key_serial"}
    assert set(CONTEXT_KEYS) - serial_keys <= set(context)
    assert not serial_keys & set(context)
    from_json = StackConfig.from_mapping(context, environ={})
    defaults = StackConfig()
    assert from_json == dataclasses.replace(defaults, allowed_models=from_json.allowed_models)
    assert from_json.stack_name == DEFAULT_STACK_NAME
    assert context["secret_name"] is None  # derived from user_name (stacks/names.py), so two stacks can coexist
    assert (from_json.user_name, from_json.secret_name) == (context["user_name"], "portkey/bedrock-access")
    assert from_json.policy_mode == "least-privilege"
    assert (from_json.access_key_serial, from_json.retained_access_key_serial) == (1, None)
    assert from_json.allowed_models == tuple(load_catalog().names(include_eol=False, offered_from=from_json.region))
    assert json.loads(Path(CDK_JSON).read_text(encoding="utf-8"))["app"].endswith(".venv/bin/python app.py")


def test_region_and_account_default_to_the_cli_environment():
    cfg = config({"CDK_DEFAULT_REGION": "eu-west-1", "CDK_DEFAULT_ACCOUNT": "123456789012"})
    assert (cfg.region, cfg.account) == ("eu-west-1", "123456789012")
    explicit = config({"CDK_DEFAULT_REGION": "eu-west-1"}, region="us-west-2", account="210987654321")
    assert (explicit.region, explicit.account) == ("us-west-2", "210987654321")
    assert (config().region, config().account) == (load_catalog().default_region, None)


def test_from_context_reads_a_construct_node():
    node = FakeNode({"user_name": "alice", "allowed_models": ["sonnet-4.5", "Claude_Large"], "region": "us-east-1"})
    cfg = StackConfig.from_context(node, environ={})
    assert cfg.user_name == "alice"
    assert cfg.allowed_models == ("claude-large", "claude-sonnet-4.5")  # catalog order, aliases resolved


def test_allowed_models_comma_string_and_all():
    assert config(allowed_models="claude-large, haiku-4.5").allowed_models == ("claude-large", "claude-haiku-4.5")
    everything = config(allowed_models="ALL")
    assert everything.allowed_models == tuple(load_catalog().names(include_eol=False, offered_from=everything.region))


def test_all_never_includes_an_end_of_life_model():
    assert "claude-sonnet-4" in load_catalog().names()
    assert "claude-sonnet-4" not in config(allowed_models="all").allowed_models
    assert "claude-sonnet-4" not in config().allowed_models


@pytest.mark.parametrize("value", ["", " ", "none", "None", "null", [], ","])
def test_an_empty_or_none_allow_list_is_an_error_not_all_models(value):
    with pytest.raises(ConfigError) as info:
        config(allowed_models=value)
    message = str(info.value)
    assert message.startswith("context key allowed_models=") and "at least one model" in message and "'all'" in message
    assert "\n" not in message


def test_a_missing_allow_list_means_all():
    assert config(allowed_models=None).allowed_models == config(allowed_models="all").allowed_models


def test_an_end_of_life_model_in_the_allow_list_is_refused():
    with pytest.raises(ConfigError) as info:
        config(allowed_models="claude-large,claude-sonnet-4")
    assert str(info.value).startswith(
        "context key allowed_models: claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use "
    )


@pytest.mark.parametrize(
    ("region", "partition"),
    [("us-gov-west-1", "aws-us-gov"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn")],
)
def test_regions_of_other_partitions_are_refused_in_one_line(region, partition):
    with pytest.raises(ConfigError) as info:
        config(region=region)
    assert str(info.value) == (
        f"context key region: region {region} is in the {partition} partition, which is not supported yet; "
        "use a region of the aws partition such as us-east-1"
    )
    with pytest.raises(ConfigError, match="not supported yet"):
        config({"CDK_DEFAULT_REGION": region})


def test_all_means_all_models_offered_in_the_region():
    catalog = load_catalog()
    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        offered = tuple(m.name for m in catalog if not m.is_eol() and region in m.source_regions())
        assert config(region=region).allowed_models == offered
    # not every active model is offered everywhere, so "all" depends on the region
    assert config(region="ap-southeast-1").allowed_models != config(region="us-east-1").allowed_models


def test_model_ids_are_the_resolved_profile_ids():
    cfg = config(region="eu-west-1", allowed_models="claude-large,claude-sonnet-4.5")
    assert cfg.model_ids() == [
        "global.anthropic.claude-opus-4-5-20251101-v1:0",
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]


def test_serials_parse_from_cli_strings():
    cfg = config(access_key_serial="3", retained_access_key_serial="2")
    assert (cfg.access_key_serial, cfg.retained_access_key_serial) == (3, 2)
    assert config(retained_access_key_serial="").retained_access_key_serial is None


def test_config_is_frozen():
    cfg = config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.policy_mode = "full"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("context", "key", "fix"),
    [
        ({"policy_mode": "admin"}, "policy_mode", "least-privilege, full"),
        ({"region": "useast1"}, "region", "us-east-1"),
        ({"account": "12345"}, "account", "12-digit"),
        ({"allowed_models": "claude-huge"}, "allowed_models", "valid names"),
        ({"allowed_models": ","}, "allowed_models", "at least one model"),
        ({"allowed_models": 5}, "allowed_models", "comma list"),
        ({"region": "ap-southeast-1", "allowed_models": "claude-haiku-4.5"}, "allowed_models", "use a region"),
        ({"access_key_serial": "two"}, "access_key_serial", "positive integer"),
        ({"access_key_serial": 0}, "access_key_serial", "positive integer"),
        ({"access_key_serial": True}, "access_key_serial", "positive integer"),
        ({"access_key_serial": 2, "retained_access_key_serial": 2}, "retained_access_key_serial", "must differ"),
        ({"kms_principals": "arn:aws:iam::*:root"}, "kms_principals", "IAM ARNs"),
        ({"kms_principals": "someone"}, "kms_principals", "IAM ARNs"),
        ({"user_name": "bad name!"}, "user_name", "1-64 characters"),
        ({"secret_name": "a b"}, "secret_name", "letters, digits"),
        ({"stack_name": "1stack"}, "stack_name", "starting with a letter"),
        ({"api_keys": "long-term"}, "api_keys", "off, short-term"),
        # Unicode digits and letters are not [0-9] / ASCII (issue 18, item 15)
        ({"region": "us-east-\N{SUPERSCRIPT ONE}"}, "region", "us-east-1"),
        ({"account": "\uff11" * 12}, "account", "12-digit"),
        ({"access_key_serial": "\N{SUPERSCRIPT TWO}"}, "access_key_serial", "positive integer"),
        ({"kms_principals": "arn:aws:iam::" + "\u0661" * 12 + ":root"}, "kms_principals", "IAM ARNs"),
        ({"kms_principals": "arn:aws:iam::111122223333:role/r\u00f4le"}, "kms_principals", "IAM ARNs"),
        ({"user_name": "us\u00e9r"}, "user_name", "1-64 characters"),
    ],
)
def test_bad_context_fails_with_one_line_naming_key_and_fix(context, key, fix):
    with pytest.raises(ConfigError) as info:
        config(**context)
    message = str(info.value)
    assert isinstance(info.value, PortkeyBedrockError) and isinstance(info.value, ValueError)
    assert "\n" not in message
    assert key in message and fix in message


def test_kms_principals_accept_list_or_comma_string():
    arns = ["arn:aws:iam::111122223333:role/sops", "arn:aws:iam::111122223333:root"]
    assert config(kms_principals=arns).kms_principals == tuple(arns)
    assert config(kms_principals=",".join(arns)).kms_principals == tuple(arns)


def test_api_keys_default_off_from_cdk_json_and_short_term_when_asked():
    from stacks.config import cdk_json_context

    assert cdk_json_context()["api_keys"] == "off"
    assert config().api_keys == "off"
    assert config(api_keys="short-term").api_keys == "short-term"


@pytest.mark.parametrize("key", ["source_regions", "region"])
def test_an_unknown_region_is_named_with_its_own_key(key):
    value = "us-east-1,us-east-7" if key == "source_regions" else "us-east-7"
    with pytest.raises(ConfigError) as err:
        config(**{key: value})
    assert str(err.value) == f"context key {key}: unknown region us-east-7; use an AWS region such as us-east-2"


def test_an_unknown_context_key_fails_with_a_did_you_mean():
    from stacks.context_keys import check_context_keys

    with pytest.raises(ConfigError, match=r"^unknown context key allowed_model; did you mean allowed_models\?$"):
        check_context_keys({"allowed_model": "claude-haiku-4.5", "@aws-cdk/core:x": True})
    check_context_keys({"allowed_models": "claude-haiku-4.5", "aws:cdk:enable-path-metadata": True})


def test_the_secret_name_follows_the_user_name_unless_set():
    assert config(user_name="team-a").secret_name == "portkey/team-a"
    assert config(user_name="portkey-team-b").secret_name == "portkey/team-b"
    assert config(user_name="team-a", secret_name="apps/team-a").secret_name == "apps/team-a"
    assert config().secret_name == StackConfig().secret_name == "portkey/bedrock-access"


def test_the_config_keeps_its_admission_and_a_replaced_field_is_admitted_afresh():
    cfg = config(region="us-east-1", allowed_models="claude-sonnet-4.5")
    assert cfg.admitted() is cfg.admission
    assert cfg.model_ids() == [cfg.admission.offer("claude-sonnet-4.5", "us-east-1").invoke_id]
    moved = dataclasses.replace(cfg, region="eu-west-1")
    assert moved.model_ids() == ["eu.anthropic.claude-sonnet-4-5-20250929-v1:0"]
