"""The drift check: pure comparison on API-shaped dicts (each drift kind injected), and the CLI's
exit codes and one-line errors (botocore Stubber, a client that raises, no credentials at all)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from local.moto_patches.bedrock_control import load_fixture
from runtime.catalog import check as catalog_check
from runtime.catalog.check import (
    DESTINATION_EXTRA,
    DESTINATION_MISSING,
    MODEL_LEGACY,
    MODEL_MISSING,
    NEW_MODEL,
    PROFILE_MISSING,
    compare,
)
from runtime.catalog.model import load_catalog
from runtime.cli import main as cli_main

DAY = "2026-11-23"
REGION = "us-east-1"
ACCOUNT = "123456789012"
LIFECYCLE_LEGACY_PAGE = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle-legacy.html"


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: DAY)


@pytest.fixture
def answers() -> dict[str, Any]:
    """Bedrock's answers in us-east-1 as local AWS serves them (the committed fixture), limited to
    the models the shipped catalog has (the fixture's newer ones are new-model drifts, tested below)."""
    answers: dict[str, Any] = copy.deepcopy(load_fixture()["regions"][REGION])
    known = {model.model_id for model in load_catalog()}
    models_of(answers)[:] = [s for s in models_of(answers) if s["modelId"] in known]
    profiles_of(answers)[:] = [p for p in profiles_of(answers) if p["inferenceProfileId"].split(".", 1)[1] in known]
    return answers


def test_the_committed_fixture_has_a_model_the_catalog_lacks() -> None:
    """Fable 5 (AWS model card) is in the fixture; until the catalog ships it, check reports it."""
    full = load_fixture()["regions"][REGION]
    shipped = any(model.model_id == "anthropic.claude-fable-5" for model in load_catalog())
    result = check(full)
    assert [(d.kind, d.subject) for d in result.drifts] == (
        [] if shipped else [(NEW_MODEL, "anthropic.claude-fable-5")]
    )


def models_of(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return answers["ListFoundationModels"]["modelSummaries"]  # type: ignore[no-any-return]


def profiles_of(answers: dict[str, Any]) -> list[dict[str, Any]]:
    return answers["ListInferenceProfiles"]["inferenceProfileSummaries"]  # type: ignore[no-any-return]


def offered_models(region: str = REGION) -> int:
    """How many catalog models the check covers from `region`: not end of life on DAY, and offered
    from there (an entry whose profiles only `catalog sync` knows has no offer yet)."""
    catalog = load_catalog()
    return sum(1 for m in catalog if m.status_on(DAY) != "eol" and any(region in o.source_regions for o in m.offers))


def check(answers: dict[str, Any], region: str = REGION) -> catalog_check.CheckResult:
    return compare(load_catalog(), region, models_of(answers), profiles_of(answers), day=DAY)


def profile(answers: dict[str, Any], profile_id: str) -> dict[str, Any]:
    return next(p for p in profiles_of(answers) if p["inferenceProfileId"] == profile_id)


def test_clean_when_bedrock_matches_the_catalog(answers: dict[str, Any]) -> None:
    result = check(answers)
    assert result.drifts == ()
    assert result.clean
    assert result.models_checked == offered_models() >= 9  # claude-sonnet-4 is end of life
    assert result.profiles_checked >= 9
    assert result.summary().startswith(f"catalog check us-east-1: clean ({offered_models()} models, ")


def test_an_eol_model_absent_from_bedrock_is_expected(answers: dict[str, Any]) -> None:
    ids = {m["modelId"] for m in models_of(answers)}
    assert "anthropic.claude-sonnet-4-20250514-v1:0" not in ids  # the served data omits it, as AWS does
    assert "us.anthropic.claude-sonnet-4-20250514-v1:0" not in {p["inferenceProfileId"] for p in profiles_of(answers)}
    assert check(answers).clean


def test_model_now_legacy_on_bedrock(answers: dict[str, Any]) -> None:
    summary = next(m for m in models_of(answers) if m["modelId"] == "anthropic.claude-opus-4-6-v1")
    summary["modelLifecycle"] = {"status": "LEGACY", "legacyTime": "2027-02-05T00:00:00Z"}
    (drift,) = check(answers).drifts
    assert drift.kind == MODEL_LEGACY
    assert drift.subject == "claude-opus-4.6"
    assert drift.message.startswith(
        "claude-opus-4.6 (anthropic.claude-opus-4-6-v1) is LEGACY on Bedrock in us-east-1 but active in the catalog; "
        "update runtime/catalog/catalog.json lifecycle"
    )
    assert drift.source and drift.source.startswith("https://docs.aws.amazon.com/")


def test_legacy_on_bedrock_and_in_the_catalog_is_no_drift(answers: dict[str, Any]) -> None:
    summary = next(m for m in models_of(answers) if m["modelId"] == "anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert summary["modelLifecycle"]["status"] == "LEGACY"
    assert check(answers).clean


def test_model_missing_means_probably_end_of_life(answers: dict[str, Any]) -> None:
    models_of(answers)[:] = [
        m for m in models_of(answers) if m["modelId"] != "anthropic.claude-sonnet-4-5-20250929-v1:0"
    ]
    (drift,) = check(answers).drifts
    assert drift.kind == MODEL_MISSING
    assert "claude-sonnet-4.5 (anthropic.claude-sonnet-4-5-20250929-v1:0) is not listed by Bedrock in us-east-1" in (
        drift.message
    )
    assert "probably end of life" in drift.message
    assert drift.message.endswith(f"(source: {LIFECYCLE_LEGACY_PAGE})")


def test_catalog_profile_missing_in_the_region(answers: dict[str, Any]) -> None:
    profiles_of(answers).remove(profile(answers, "us.anthropic.claude-opus-4-7"))
    (drift,) = check(answers).drifts
    assert drift.kind == PROFILE_MISSING
    assert drift.profile_id == "us.anthropic.claude-opus-4-7"
    assert "inference profile us.anthropic.claude-opus-4-7 is not offered by Bedrock in us-east-1" in drift.message


def test_application_profiles_do_not_count_as_system_defined(answers: dict[str, Any]) -> None:
    profile(answers, "us.anthropic.claude-opus-4-7")["type"] = "APPLICATION"
    assert [d.kind for d in check(answers).drifts] == [PROFILE_MISSING]


def test_destination_bedrock_lists_but_the_catalog_lacks(answers: dict[str, Any]) -> None:
    served = profile(answers, "us.anthropic.claude-sonnet-4-6")
    served["models"].append({"modelArn": "arn:aws:bedrock:ca-central-1::foundation-model/anthropic.claude-sonnet-4-6"})
    (drift,) = check(answers).drifts
    assert drift.kind == DESTINATION_MISSING
    assert drift.destination == "ca-central-1"
    assert drift.message.startswith(
        "claude-sonnet-4.6: us.anthropic.claude-sonnet-4-6 from us-east-1 routes to ca-central-1 on Bedrock, "
        "which the catalog's routes lack (the deployed policy would deny calls Bedrock sends there); "
        'add ca-central-1 to routes["us-east-1"]'
    )


def test_destination_the_catalog_has_but_bedrock_no_longer_lists(answers: dict[str, Any]) -> None:
    served = profile(answers, "us.anthropic.claude-sonnet-4-6")
    served["models"] = [m for m in served["models"] if ":us-west-2:" not in m["modelArn"]]
    (drift,) = check(answers).drifts
    assert (drift.kind, drift.destination) == (DESTINATION_EXTRA, "us-west-2")
    assert "no longer routes to us-west-2 on Bedrock" in drift.message


def test_global_profile_covers_any_destination(answers: dict[str, Any]) -> None:
    served = profile(answers, "global.anthropic.claude-opus-4-5-20251101-v1:0")
    served["models"].append({"modelArn": "arn:aws:bedrock:ap-south-1::foundation-model/x"})
    served["models"] = served["models"][1:]
    assert check(answers).clean


def test_newer_model_of_a_listed_family(answers: dict[str, Any]) -> None:
    new = dict(models_of(answers)[0], modelId="anthropic.claude-opus-9", modelName="Claude Opus 9")
    new["modelLifecycle"] = {"status": "ACTIVE"}
    models_of(answers).append(new)
    (drift,) = check(answers).drifts
    assert (drift.kind, drift.subject) == (NEW_MODEL, "anthropic.claude-opus-9")
    assert drift.message == (
        "anthropic.claude-opus-9 (Claude Opus 9, family claude-opus) is ACTIVE on Bedrock in us-east-1 but not in "
        "the catalog; add it to runtime/catalog/catalog.json with its AWS model-card URL as source, or record it in "
        "the overlay: python -m runtime catalog sync --write"
    )


@pytest.mark.parametrize(
    ("model_id", "status", "types"),
    [
        ("anthropic.claude-3-opus-20240229-v1:0", "ACTIVE", ["ON_DEMAND"]),  # another family's naming
        ("anthropic.claude-opus-4-1-20250805-v1:0", "LEGACY", ["INFERENCE_PROFILE"]),  # not current
        ("anthropic.claude-opus-4-7:0:200k", "ACTIVE", ["PROVISIONED"]),  # provisioned variant
        ("meta.llama4-maverick-17b-instruct-v1:0", "ACTIVE", ["ON_DEMAND"]),  # no catalog family
    ],
)
def test_models_that_are_not_a_new_family_member(
    answers: dict[str, Any], model_id: str, status: str, types: list[str]
) -> None:
    models_of(answers).append(
        {"modelId": model_id, "modelLifecycle": {"status": status}, "inferenceTypesSupported": types}
    )
    assert check(answers).clean


def test_every_kind_at_once_one_line_each(answers: dict[str, Any]) -> None:
    next(m for m in models_of(answers) if m["modelId"] == "anthropic.claude-opus-4-6-v1")["modelLifecycle"] = {
        "status": "LEGACY"
    }
    models_of(answers)[:] = [
        m for m in models_of(answers) if m["modelId"] != "anthropic.claude-haiku-4-5-20251001-v1:0"
    ]
    profiles_of(answers).remove(profile(answers, "us.anthropic.claude-opus-4-7"))
    sonnet = profile(answers, "us.anthropic.claude-sonnet-4-6")
    sonnet["models"] = [*sonnet["models"][:2], {"modelArn": "arn:aws:bedrock:ca-central-1::foundation-model/a"}]
    models_of(answers).append({"modelId": "amazon.nova-3-lite-v1:0", "modelLifecycle": {"status": "ACTIVE"}})
    kinds = sorted(d.kind for d in check(answers).drifts)
    assert kinds == sorted(
        [MODEL_LEGACY, MODEL_MISSING, PROFILE_MISSING, DESTINATION_MISSING, DESTINATION_EXTRA, NEW_MODEL]
    )
    assert all("\n" not in d.message and "runtime/catalog/catalog.json" in d.message for d in check(answers).drifts)


# --- the CLI: Bedrock answers through botocore's Stubber, or errors --------------------------------


def stubbed(answers: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """A real boto3 Bedrock client and its Stubber (which validates our responses against the
    Bedrock service model), with both list calls queued when `answers` is given."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("bedrock", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    stubber = Stubber(client)
    if answers is not None:
        stubber.add_response("list_foundation_models", copy.deepcopy(answers["ListFoundationModels"]), {})
        stubber.add_response(
            "list_inference_profiles",
            copy.deepcopy(answers["ListInferenceProfiles"]),
            {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000},
        )
    return client, stubber


def queue_access(stubber: Any, answers: dict[str, Any], region: str = REGION) -> None:
    """GetFoundationModelAvailability for each allowed model offered from `region`, from the fixture."""
    catalog = load_catalog()
    for name in catalog_check.allowed_in_region(catalog, region):
        model_id = catalog.model(name).model_id
        body = answers["GetFoundationModelAvailability"][model_id]
        stubber.add_response("get_foundation_model_availability", copy.deepcopy(body), {"modelId": model_id})


def use_client(monkeypatch: pytest.MonkeyPatch, client: Any) -> None:
    monkeypatch.setattr(catalog_check, "bedrock_client", lambda region, profile: client)


def test_cli_clean_exit_0(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], capsys: Any) -> None:
    client, stubber = stubbed(answers)
    queue_access(stubber, answers)
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check", "--region", REGION]) == 0
    stubber.assert_no_pending_responses()
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"catalog check us-east-1: clean ({offered_models()} models, ")
    assert all(line.startswith("access: ") and line.endswith(" is callable now") for line in out[:-1])
    assert len(out) >= 2


def test_cli_drift_exit_1_and_typed_json(monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], capsys: Any) -> None:
    profiles_of(answers).remove(profile(answers, "us.anthropic.claude-opus-4-7"))
    client, stubber = stubbed(answers)
    # the check asks GetInferenceProfile for the profile the list lacks: Bedrock says it does not exist
    stubber.add_client_error(
        "get_inference_profile",
        service_error_code="ResourceNotFoundException",
        http_status_code=404,
        expected_params={"inferenceProfileIdentifier": "us.anthropic.claude-opus-4-7"},
    )
    queue_access(stubber, answers)
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["clean"] is False
    assert report["models_checked"] == offered_models()
    assert [d["kind"] for d in report["drifts"]] == [PROFILE_MISSING]
    assert report["drifts"][0]["profile_id"] == "us.anthropic.claude-opus-4-7"
    stubber.assert_no_pending_responses()


def test_cli_get_fills_what_the_list_lacks(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], capsys: Any
) -> None:
    """A profile the list omits but GetInferenceProfile finds is no drift (GetInferenceProfile is the proof)."""
    full = profile(answers, "us.anthropic.claude-opus-4-7")
    profiles_of(answers).remove(full)
    client, stubber = stubbed(answers)
    stubber.add_response(
        "get_inference_profile", copy.deepcopy(full), {"inferenceProfileIdentifier": full["inferenceProfileId"]}
    )
    queue_access(stubber, answers)
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check"]) == 0
    stubber.assert_no_pending_responses()


def test_cli_access_denied_exit_2_one_line(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "list_foundation_models",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/portkey-bedrock-access is not authorized",
        http_status_code=403,
    )
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: Bedrock denied the control-plane call in us-east-1 (AccessDeniedException); these calls need "
        "operator credentials with bedrock:ListFoundationModels, bedrock:GetFoundationModel, "
        "bedrock:ListInferenceProfiles, bedrock:GetInferenceProfile, bedrock:GetFoundationModelAvailability; the "
        "portkey-bedrock-access user is not granted them\n"
    )


def test_cli_no_credentials_exit_2_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: Any) -> None:
    """The real boto3 credential chain, with nothing to find."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert cli_main(["catalog", "check", "--region", "eu-west-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: no AWS credentials found; these calls need operator credentials with ")


def test_cli_unknown_profile_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: Any) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    assert cli_main(["catalog", "check", "--profile", "operator"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "AWS profile not found" in err and "--profile" in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["catalog"], "usage: python -m runtime catalog check"),
        (["catalog", "check", "--region", "not a region"], "error: "),
        (["catalog", "check", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_cli_bad_input_exit_2(argv: list[str], expected: str, capsys: Any) -> None:
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_secret_never_echoed_on_denied(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    client, stubber = stubbed()
    stubber.add_client_error("list_foundation_models", service_error_code="UnrecognizedClientException",
                             service_message=f"bad key {secret}", http_status_code=403)  # fmt: skip
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check"]) == 2
    captured = capsys.readouterr()
    assert secret not in captured.err + captured.out
    assert "AWS rejected the credentials (UnrecognizedClientException)" in captured.err


def test_cli_model_not_callable_yet_exit_1_with_the_step(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], capsys: Any
) -> None:
    """GetFoundationModelAvailability: no Marketplace agreement yet -> exit 1, the one step named."""
    answers["GetFoundationModelAvailability"]["anthropic.claude-opus-4-7"]["agreementAvailability"] = {
        "status": "NOT_AVAILABLE"
    }
    client, stubber = stubbed(answers)
    queue_access(stubber, answers)
    stubber.activate()
    use_client(monkeypatch, client)
    assert cli_main(["catalog", "check"]) == 1
    out = capsys.readouterr().out.splitlines()
    (line,) = [line for line in out if "claude-opus-4.7 " in line]
    assert line.startswith("access: claude-opus-4.7 (anthropic.claude-opus-4-7) is not callable by this account in ")
    assert "subscribe in the AWS Marketplace: an operator with aws-marketplace:Subscribe" in line
    assert out[-1].startswith("catalog check us-east-1: 1 drift(s)")


@pytest.mark.parametrize(
    ("change", "step"),
    [
        ({"regionAvailability": "NOT_AVAILABLE"}, "call it from another Region"),
        ({"authorizationStatus": "NOT_AUTHORIZED"}, "use-case form"),
        ({"agreementAvailability": {"status": "PENDING"}}, "pending"),
        ({"entitlementAvailability": "NOT_AVAILABLE"}, "not entitled"),
        ({}, None),
    ],
)
def test_access_step_names_one_step(change: dict[str, Any], step: str | None) -> None:
    ok = {"modelId": "m", "agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
          "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}  # fmt: skip
    found = catalog_check.access_step({**ok, **change}, REGION)
    assert (found is None) if step is None else (found is not None and step in found)


def test_an_unknown_region_is_exit_2_not_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert catalog_check.main(["--region", "us-east-7"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "error: unknown region us-east-7; use an AWS region such as us-east-2"
    assert "clean" not in captured.out
