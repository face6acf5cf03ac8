"""A model `catalog sync` absorbed reaches the Bedrock double through the real gateway: the drifted
control-plane fixture is read by sync (its pure half), the overlay written, and a double started on
the merged catalog with exactly the policy the stack deploys for it routes a chat to the synced
profile and a call of the widened profile to the new destination Region."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.bedrock_double import DictKeyStore, DictPolicyStore, DoubleServer, start_double
from local.gateway import Gateway
from runtime import constants
from runtime.catalog.model import CATALOG_PATH, OVERLAY_ENV, load_catalog
from runtime.catalog.overlay import empty_overlay
from runtime.catalog.sync import collect, combine, write_overlay
from stacks.bedrock_policy import build_statements, policy_document
from tests.e2e.conftest import FakeKey
from tests.support.control_plane import HAIKU_55, REGION, SONNET_46_US, drifted_fixture

pytestmark = pytest.mark.e2e

DAY = "2026-12-04"


@pytest.fixture
def synced_double(bedrock_key: FakeKey, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DoubleServer]:
    answers = drifted_fixture()["regions"][REGION]
    found = collect(load_catalog(CATALOG_PATH), REGION, answers["ListFoundationModels"]["modelSummaries"],
                    answers["ListInferenceProfiles"]["inferenceProfileSummaries"], DAY)  # fmt: skip
    overlay = tmp_path / "catalog.local.json"
    write_overlay(str(overlay), combine(empty_overlay(), found, [REGION]))
    monkeypatch.setenv(OVERLAY_ENV, str(overlay))
    merged = load_catalog()
    keys = DictKeyStore()
    record = keys.add(bedrock_key.access_key_id, bedrock_key.secret_access_key, bedrock_key.user_arn.rsplit("/", 1)[1])
    statements = build_statements(merged, REGION, record.account, ["claude-haiku-5.5", "claude-sonnet-4.6"])
    policies = DictPolicyStore({record.user_arn: [policy_document(statements)]})
    server = start_double(key_store=keys, policy_store=policies, catalog=merged)
    yield server
    server.stop()


def chat(gateway: Gateway, key: FakeKey, double: DoubleServer, model: str) -> dict[str, Any]:
    import urllib.request

    headers = {
        constants.HEADER_PROVIDER: constants.PROVIDER_BEDROCK,
        constants.HEADER_AWS_ACCESS_KEY_ID: key.access_key_id,
        constants.HEADER_AWS_SECRET_ACCESS_KEY: key.secret_access_key,
        constants.HEADER_AWS_REGION: REGION,
        constants.HEADER_CUSTOM_HOST: double.url,
        "content-type": "application/json",
    }
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}
    url = gateway.base_url.rstrip("/") + "/chat/completions"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - the local gateway
        return dict(json.load(reply))


def test_the_synced_model_and_destination_are_reached(
    gateway: Gateway, bedrock_key: FakeKey, synced_double: DoubleServer
) -> None:
    reply = chat(gateway, bedrock_key, synced_double, f"us.{HAIKU_55}")
    assert reply["choices"][0]["message"]["content"] == f"Hello from us.{HAIKU_55}: hi"
    [seen] = synced_double.requests()
    assert seen["model_id"] == f"us.{HAIKU_55}" and seen["signature_valid"] is True
    assert seen["destination_region"] in ("us-east-1", "us-east-2", "us-west-2")
    synced_double.reset()
    for _ in range(4):  # round-robin over the widened route: the new destination comes up
        chat(gateway, bedrock_key, synced_double, SONNET_46_US)
    assert "ca-central-1" in {seen["destination_region"] for seen in synced_double.requests()}
