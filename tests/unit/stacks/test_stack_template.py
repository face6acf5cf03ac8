"""The synthesized stacks (one shared synthesis per session, see conftest)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from aws_cdk.assertions import Match, Template

from runtime.constants import (
    OUTPUT_ACCESS_KEY_SERIAL,
    OUTPUT_KMS_KEY_ARN,
    OUTPUT_MODEL_IDS,
    OUTPUT_POLICY_ARN,
    OUTPUT_REGION,
    OUTPUT_SECRET_ARN,
    OUTPUT_USER_ARN,
    OUTPUT_USER_NAME,
    SECRET_ENV_KEYS,
)
from stacks.checks.hygiene import secret_leaks
from stacks.checks.scanners import cfn_lint_errors, parliament_errors, policy_documents, render
from stacks.constructs.access_credentials import SOPS_KMS_ACTIONS
from stacks.names import kms_alias

pytestmark = pytest.mark.slow

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"
ACCOUNT = "111122223333"  # what scanners.render puts for Ref AWS::AccountId


def resources_of(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(mapping):
    assert len(mapping) == 1, mapping
    return next(iter(mapping.values()))


def policy_statements(template):
    # the grants may span several managed policies (IAM's 6,144-character limit): their union
    return [s for document in policy_documents(template).values() for s in document["Statement"]]


def test_user_has_the_configured_name(default_template):
    Template.from_json(default_template).has_resource_properties(
        "AWS::IAM::User", {"UserName": "portkey-bedrock-access"}
    )


def test_policy_is_a_managed_policy_attached_through_its_users_list(default_template):
    template = Template.from_json(default_template)
    policies = resources_of(default_template, "AWS::IAM::ManagedPolicy")
    assert 1 <= len(policies) <= 3
    user_id = only({k: k for k in resources_of(default_template, "AWS::IAM::User")})
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"Users": [{"Ref": user_id}]})
    # least-privilege mode attaches nothing through the user (moto would ignore it anyway)
    assert "ManagedPolicyArns" not in default_template["Resources"][user_id]["Properties"]


def test_policy_actions_are_exactly_the_two_invoke_actions(default_template):
    template = Template.from_json(default_template)
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Action": ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]})]
                )
            }
        },
    )
    actions = {tuple(s["Action"]) for s in policy_statements(default_template)}
    assert actions == {("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")}
    # the one wildcard: the region of a foundation-model ARN bound to its exact profile
    for statement in policy_statements(default_template):
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for resource in resources:
            if "*" in json.dumps(resource):
                assert render(resource).startswith("arn:aws:bedrock:*::foundation-model/")
                assert "bedrock:InferenceProfileArn" in statement["Condition"]["StringEquals"]


def test_sonnet_45_in_us_east_1_profile_and_destinations_use_the_account_token(default_template):
    statements = {s["Sid"]: s for s in policy_statements(default_template)}
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{SONNET_45}"
    assert profile in statements["Profiles"]["Resource"]
    assert statements["ModelClaudeSonnet45"]["Resource"] == f"arn:aws:bedrock:*::foundation-model/{SONNET_45}"
    assert statements["ModelClaudeSonnet45"]["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": profile}}
    # the account is CloudFormation's, never a literal baked into the template
    raw = json.dumps(resources_of(default_template, "AWS::IAM::ManagedPolicy"))
    assert '{"Ref": "AWS::AccountId"}' in raw and ACCOUNT not in raw


def test_claude_large_has_the_three_global_grants(default_template):
    statements = {s["Sid"]: s for s in policy_statements(default_template)}
    profile = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{OPUS_45}"
    assert profile in statements["GlobalProfiles"]["Resource"]
    assert statements["GlobalProfiles"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    assert statements["ModelClaudeLarge"]["Resource"] == f"arn:aws:bedrock:us-east-1::foundation-model/{OPUS_45}"
    assert statements["GlobalModelClaudeLarge"]["Resource"] == f"arn:aws:bedrock:::foundation-model/{OPUS_45}"
    for sid, requested_region in (("ModelClaudeLarge", "us-east-1"), ("GlobalModelClaudeLarge", "unspecified")):
        condition = statements[sid]["Condition"]["StringEquals"]
        assert condition == {"bedrock:InferenceProfileArn": profile, "aws:RequestedRegion": requested_region}


def test_eu_west_1_stack_uses_eu_profiles(synthesized):
    template = synthesized.templates["Eu"]
    statements = {s["Sid"]: s for s in policy_statements(template)}
    assert f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.{SONNET_45}" in statements["Profiles"]["Resource"]
    assert all(":us-" not in r for s in statements.values() for r in json.dumps(s["Resource"]).split('"'))
    assert template["Outputs"][OUTPUT_REGION]["Value"] == "eu-west-1"
    assert "eu.anthropic.claude-sonnet-4-5" in template["Outputs"][OUTPUT_MODEL_IDS]["Value"]


def test_full_mode_attaches_the_aws_managed_policy(synthesized):
    template = synthesized.templates["Full"]
    Template.from_json(template).resource_count_is("AWS::IAM::ManagedPolicy", 0)
    user = only(resources_of(template, "AWS::IAM::User"))
    assert render(user["Properties"]["ManagedPolicyArns"]) == ["arn:aws:iam::aws:policy/AmazonBedrockFullAccess"]
    assert render(template["Outputs"][OUTPUT_POLICY_ARN]["Value"]) == (
        "arn:aws:iam::aws:policy/AmazonBedrockFullAccess"
    )


def test_restricted_allow_list_shrinks_the_policy(synthesized, default_template):
    restricted = synthesized.templates["Restricted"]
    statements = policy_statements(restricted)
    assert len(statements) == 3 < len(policy_statements(default_template))
    text = json.dumps(render(restricted["Resources"]))
    assert OPUS_45 in text and SONNET_45 not in text and "claude-haiku" not in text
    assert restricted["Outputs"][OUTPUT_MODEL_IDS]["Value"] == f"global.{OPUS_45}"


def test_outputs_are_the_documented_names_and_never_the_key(default_template):
    outputs = default_template["Outputs"]
    names = {
        OUTPUT_USER_NAME,
        OUTPUT_USER_ARN,
        OUTPUT_POLICY_ARN,
        OUTPUT_SECRET_ARN,
        OUTPUT_KMS_KEY_ARN,
        OUTPUT_REGION,
        OUTPUT_MODEL_IDS,
        OUTPUT_ACCESS_KEY_SERIAL,
    }
    assert names <= set(outputs)
    assert outputs[OUTPUT_ACCESS_KEY_SERIAL]["Value"] == "1"
    keys = set(resources_of(default_template, "AWS::IAM::AccessKey"))
    assert keys and keys.isdisjoint(json.dumps(outputs).split('"'))


def test_secret_value_is_built_from_the_active_key_refs_only(default_template):
    (key_id,) = resources_of(default_template, "AWS::IAM::AccessKey")
    secret = only(resources_of(default_template, "AWS::SecretsManager::Secret"))["Properties"]
    joined = secret["SecretString"]["Fn::Join"][1]
    literals = "".join(part for part in joined if isinstance(part, str))
    assert [k for k in SECRET_ENV_KEYS if k in literals] == list(SECRET_ENV_KEYS)
    assert {"Ref": key_id} in joined
    assert {"Fn::GetAtt": [key_id, "SecretAccessKey"]} in joined
    assert json.loads(render(secret["SecretString"])) == {
        "AWS_ACCESS_KEY_ID": f"${{{key_id}}}",
        "AWS_SECRET_ACCESS_KEY": f"${{{key_id}.SecretAccessKey}}",
        "AWS_REGION": "us-east-1",
    }
    kms_key = only({k: k for k in resources_of(default_template, "AWS::KMS::Key")})
    assert secret["KmsKeyId"] == {"Fn::GetAtt": [kms_key, "Arn"]}


def test_secret_hygiene_passes_on_every_stack(synthesized):
    for name, template in synthesized.templates.items():
        assert secret_leaks(template) == [], name


def test_secret_hygiene_catches_an_output_exposing_the_key(default_template):
    (key_id,) = resources_of(default_template, "AWS::IAM::AccessKey")
    leaky = copy.deepcopy(default_template)
    leaky["Outputs"]["KeyId"] = {"Value": {"Ref": key_id}}
    leaky["Outputs"]["Secret"] = {"Value": {"Fn::GetAtt": [key_id, "SecretAccessKey"]}}
    problems = secret_leaks(leaky)
    assert f"output KeyId exposes access key {key_id}" in problems
    assert "output Secret exposes a secret value" in problems
    literal = copy.deepcopy(default_template)
    secret = next(iter(resources_of(literal, "AWS::SecretsManager::Secret")))
    literal["Resources"][secret]["Properties"]["SecretString"] = (
        '{"AWS_ACCESS_KEY_ID":"AKIAIOSFODNN7EXAMPLE","AWS_SECRET_ACCESS_KEY":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}'
    )
    problems = secret_leaks(literal)
    assert "Resources holds a literal access key id" in problems
    assert f"secret {secret} has a literal SecretString" in problems
    assert not any("AKIA" in p or "wJalr" in p for p in problems)  # the report never echoes values


def test_kms_key_rotates_has_alias_and_lets_sops_principals_use_it(default_template):
    template = Template.from_json(default_template)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": kms_alias("portkey-bedrock-access")})
    key = only(resources_of(default_template, "AWS::KMS::Key"))
    (sops,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "SopsRecipients"]
    assert sorted(sops["Action"]) == sorted(SOPS_KMS_ACTIONS)
    assert sops["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/sops"}


def test_rotation_phase_1_keeps_both_keys_and_points_the_secret_at_the_new_one(synthesized, default_template):
    phase1 = synthesized.templates["RotationPhase1"]
    phase2 = synthesized.templates["RotationPhase2"]
    (key1,) = resources_of(default_template, "AWS::IAM::AccessKey")
    keys1 = set(resources_of(phase1, "AWS::IAM::AccessKey"))
    assert len(keys1) == 2 and key1 in keys1  # serial 1 keeps its logical id: no replacement
    (key2,) = keys1 - {key1}
    secret = only(resources_of(phase1, "AWS::SecretsManager::Secret"))["Properties"]["SecretString"]
    assert {"Ref": key2} in secret["Fn::Join"][1] and {"Ref": key1} not in secret["Fn::Join"][1]
    assert phase1["Outputs"][OUTPUT_ACCESS_KEY_SERIAL]["Value"] == "2"
    assert set(resources_of(phase2, "AWS::IAM::AccessKey")) == {key2}  # phase 2 deletes key 1


def test_cfn_lint_reports_no_errors(synthesized):
    for name, template in synthesized.templates.items():
        assert cfn_lint_errors(template) == [], name


def test_cfn_lint_catches_a_broken_template(default_template):
    broken = copy.deepcopy(default_template)
    user = next(iter(resources_of(broken, "AWS::IAM::User")))
    broken["Resources"][user]["Properties"]["UserNam"] = "typo"
    assert any(error.startswith("E3002") for error in cfn_lint_errors(broken))


def test_parliament_reports_no_errors_on_the_policy_from_the_template(synthesized):
    for name, template in synthesized.templates.items():
        for logical_id, document in policy_documents(template).items():
            assert parliament_errors(document) == [], (name, logical_id)


@pytest.mark.parametrize(
    ("statement", "issue"),
    [
        ({"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}, "RESOURCE_STAR"),
        (
            {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "arn:aws:s3:::bucket/key"},
            "RESOURCE_MISMATCH",
        ),
        (
            {
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": "arn:aws:bedrock:us-east-1::foundation-model/*",
            },
            "RESOURCE_MISMATCH",
        ),
        (  # the any-region model without the exact-profile condition is not excused
            {
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": "arn:aws:bedrock:*::foundation-model/anthropic.claude-x-v1:0",
            },
            "RESOURCE_MISMATCH",
        ),
        (
            {"Effect": "Allow", "Action": "bedrock:InvokeModle", "Resource": "arn:aws:bedrock:us-east-1::x"},
            "UNKNOWN_ACTION",
        ),
    ],
)
def test_parliament_still_reports_real_problems(statement, issue):
    errors = parliament_errors({"Version": "2012-10-17", "Statement": [statement]})
    assert any(issue in error for error in errors)


def test_nag_gate_fails_the_build_on_an_unacknowledged_finding(tmp_path):
    import aws_cdk as cdk
    from aws_cdk import aws_secretsmanager as secretsmanager

    from stacks.app import add_scanners

    app = cdk.App(outdir=str(tmp_path))
    add_scanners(app)
    stack = cdk.Stack(app, "Tiny")
    secretsmanager.Secret(stack, "Unrotated")  # AwsSolutions-SMG4, not acknowledged
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    assert "AwsSolutions-SMG4" in rules


def test_our_app_passes_the_nag_gate(synthesized):
    with open(f"{synthesized.outdir}/validation-report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    assert all(r.get("conclusion") != "failure" for r in report["pluginReports"])


def test_bad_context_fails_synth_with_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "stacks.synth", "-o", str(tmp_path), "-c", "policy_mode=admin"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: context key policy_mode='admin' is invalid: use one of: least-privilege, full "
        "(cdk.json context or -c policy_mode=...)"
    ]


def test_api_keys_short_term_adds_exactly_the_bearer_statement(synthesized, default_template):
    assert not [s for s in policy_statements(default_template) if s["Sid"] == "ShortTermApiKeys"]
    bearer = [
        s for s in policy_statements(synthesized.templates["ApiKeys"]) if "bedrock:CallWithBearerToken" in s["Action"]
    ]
    assert bearer == [
        {
            "Sid": "ShortTermApiKeys",
            "Effect": "Allow",
            "Action": "bedrock:CallWithBearerToken",
            "Resource": "*",
            "Condition": {"StringEquals": {"bedrock:bearerTokenType": "SHORT_TERM"}},
        }
    ]
    # the model grants are unchanged by the option
    others = [s for s in policy_statements(synthesized.templates["ApiKeys"]) if s["Sid"] != "ShortTermApiKeys"]
    assert others == policy_statements(default_template)


def test_parliament_excuses_the_unknown_bearer_action_only_in_the_exact_short_term_statement():
    from stacks.bedrock_policy import short_term_api_key_statement

    exact = short_term_api_key_statement()
    assert parliament_errors({"Version": "2012-10-17", "Statement": [exact]}) == []
    loose = {**exact, "Condition": {"StringEquals": {"bedrock:bearerTokenType": "LONG_TERM"}}}
    assert any("UNKNOWN_ACTION" in e for e in parliament_errors({"Version": "2012-10-17", "Statement": [loose]}))
