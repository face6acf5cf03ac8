"""The committed control-plane fixture with issue 19's four cases written into one Region (shared by
the integration and e2e tiers): a model Bedrock has that the catalog lacks (Claude Sonnet 5.5, with
its us. profile; its three destinations are this test's own data), a new destination Region for an
existing profile, a model turned Legacy with dates, and one not yet callable by the account."""

from __future__ import annotations

from typing import Any

from local.moto_patches.bedrock_control import load_fixture

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
SONNET_55 = "anthropic.claude-sonnet-5-5"
OPUS_46 = "anthropic.claude-opus-4-6-v1"
SONNET_46_US = "us.anthropic.claude-sonnet-4-6"
FABLE_5 = "anthropic.claude-fable-5"


def drifted_fixture(region: str = REGION) -> dict[str, Any]:
    """The committed fixture with the four cases written into `region`."""
    data = load_fixture()
    answers = data["regions"][region]
    summaries = answers["ListFoundationModels"]["modelSummaries"]
    profiles = answers["ListInferenceProfiles"]["inferenceProfileSummaries"]
    # this test's own Sonnet 5.5 answers replace any the committed fixture may hold
    summaries[:] = [s for s in summaries if s["modelId"] != SONNET_55]
    profiles[:] = [p for p in profiles if not p["inferenceProfileId"].endswith(f".{SONNET_55}")]
    summaries.append({
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{SONNET_55}", "modelId": SONNET_55,
        "modelName": "Claude Sonnet 5.5", "providerName": "Anthropic", "inferenceTypesSupported": ["INFERENCE_PROFILE"],
        "modelLifecycle": {"status": "ACTIVE", "startOfLifeTime": "2026-09-28T00:00:00Z"},
    })  # fmt: skip
    profiles.append({
        "inferenceProfileName": "US Claude Sonnet 5.5", "inferenceProfileId": f"us.{SONNET_55}",
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{MOTO_ACCOUNT}:inference-profile/us.{SONNET_55}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{SONNET_55}"}
                   for r in ("us-east-1", "us-east-2", "us-west-2")],
        "status": "ACTIVE", "type": "SYSTEM_DEFINED",
    })  # fmt: skip
    # not yet callable by this account: the Marketplace agreement is missing
    answers["GetFoundationModelAvailability"][SONNET_55] = {
        "modelId": SONNET_55, "agreementAvailability": {"status": "NOT_AVAILABLE"},
        "authorizationStatus": "AUTHORIZED", "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE",
    }  # fmt: skip
    for summary in summaries:
        if summary["modelId"] == OPUS_46:
            summary["modelLifecycle"] = {"status": "LEGACY", "legacyTime": "2026-12-01T00:00:00Z",
                                         "endOfLifeTime": "2027-06-01T00:00:00Z"}  # fmt: skip
    for profile in profiles:
        if profile["inferenceProfileId"] == SONNET_46_US:
            profile["models"].append(
                {"modelArn": "arn:aws:bedrock:ca-central-1::foundation-model/anthropic.claude-sonnet-4-6"}
            )
    return data
