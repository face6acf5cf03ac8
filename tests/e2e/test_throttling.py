"""Throttling through the real Portkey gateway: per-source-region quotas in the Bedrock double,
fallback chains over (model, source region) from `runtime.portkey_config`.

The double here holds exactly the policy the stack deploys with ``-c source_regions=us-east-1,us-west-2``
(`stacks.bedrock_policy.build_statements`, the builder `stacks/stack.py` calls) for the two
chain models, and verifies each call's SigV4 signature: the region it records is the one in the
signature's credential scope, i.e. the source region the gateway signed for.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

import runtime
from local.bedrock_double import DictKeyStore, DictPolicyStore, DoubleServer, start_double
from local.bedrock_double.quotas import TOO_MANY_REQUESTS
from local.gateway import Gateway
from runtime.catalog.model import load_catalog
from stacks.bedrock_policy import build_statements, policy_document

pytestmark = pytest.mark.e2e

SOURCE_REGIONS = ["us-east-1", "us-west-2"]
MODELS = ["claude-sonnet-4.6", "claude-haiku-4.5"]
SONNET = "us.anthropic.claude-sonnet-4-6"
HAIKU = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def regional_double(bedrock_key) -> Iterator[DoubleServer]:
    keys = DictKeyStore()
    record = keys.add(bedrock_key.access_key_id, bedrock_key.secret_access_key, bedrock_key.user_arn.rsplit("/", 1)[1])
    statements = build_statements(load_catalog(), SOURCE_REGIONS, record.account, MODELS)
    server = start_double(
        key_store=keys, policy_store=DictPolicyStore({record.user_arn: [policy_document(statements)]})
    )
    yield server
    server.stop()


@pytest.fixture
def double(regional_double: DoubleServer) -> DoubleServer:
    regional_double.reset()
    return regional_double


@pytest.fixture
def creds(bedrock_key) -> runtime.Credentials:
    return runtime.Credentials(bedrock_key.access_key_id, bedrock_key.secret_access_key, region="us-east-1")


def ask(gateway: Gateway, config: dict) -> str:
    client = openai.OpenAI(
        base_url=gateway.base_url,
        api_key="unused",
        default_headers=runtime.config_header(config),
        max_retries=0,
        timeout=30,
    )
    reply = client.chat.completions.create(**runtime.chat_request(MODELS[0], MESSAGES, region="us-east-1"))
    return str(reply.choices[0].message.content)


def seen(double: DoubleServer) -> list[tuple[str, str, int]]:
    return [(r["model_id"], r["region"], r["status"]) for r in double.requests()]


def chain(creds, double, **kwargs) -> dict:
    kwargs.setdefault("regions", SOURCE_REGIONS)
    return runtime.portkey_config(MODELS, creds, custom_host=double.url, **kwargs)


def test_first_region_throttled_is_served_from_the_second_source_region(gateway, double, creds):
    double.set_quotas(double_quota("us-east-1", requests_per_minute=0))
    assert ask(gateway, chain(creds, double)) == f"Hello from {SONNET}: hi"
    assert seen(double) == [(SONNET, "us-east-1", 429), (SONNET, "us-west-2", 200)]
    first = double.requests()[0]
    assert first["signature_valid"] is True
    assert first["error_type"] == "ThrottlingException"


def test_both_regions_throttled_the_next_model_answers(gateway, double, creds):
    double.set_quotas(
        double_quota("us-east-1", model=SONNET, requests_per_minute=0),
        double_quota("us-west-2", model=SONNET, requests_per_minute=0),
    )
    assert ask(gateway, chain(creds, double)) == f"Hello from {HAIKU}: hi"
    assert seen(double) == [(SONNET, "us-east-1", 429), (SONNET, "us-west-2", 429), (HAIKU, "us-east-1", 200)]


def test_everything_throttled_returns_bedrocks_429(gateway, double, creds):
    double.set_quotas(*(double_quota(region, requests_per_minute=0) for region in SOURCE_REGIONS))
    config = chain(creds, double, retry={"attempts": 0})
    with pytest.raises(openai.RateLimitError) as info:
        ask(gateway, config)
    assert TOO_MANY_REQUESTS in info.value.response.text
    assert len(double.requests()) == 4


def test_a_source_region_outside_the_policy_is_403_and_does_not_fall_back(gateway, double, creds):
    config = chain(creds, double, regions=["us-east-2", "us-west-2"])  # us-east-2 is not in source_regions
    with pytest.raises(openai.PermissionDeniedError):
        ask(gateway, config)
    assert seen(double) == [(SONNET, "us-east-2", 403)]
    assert double.requests()[0]["signature_valid"] is True  # refused by the policy, not the signature


def test_a_400_does_not_fall_back(gateway, double, creds):
    double.add_fault(400, model=SONNET, count=1)
    with pytest.raises(openai.BadRequestError):
        ask(gateway, chain(creds, double))
    assert seen(double) == [(SONNET, "us-east-1", 400)]


def test_a_slow_upstream_is_408_from_the_gateway(gateway, double, creds):
    double.add_fault(None, count=None, latency_ms=1500, region="us-east-1")
    config = runtime.portkey_config(
        MODELS[0], creds, "us-east-1", request_timeout=300, retry={"attempts": 0}, custom_host=double.url
    )
    with pytest.raises(openai.APIStatusError) as info:
        ask(gateway, config)
    assert info.value.status_code == 408
    wait_for_requests(double, 1)


def test_a_slow_upstream_times_out_and_falls_back_to_the_next_region(gateway, double, creds):
    double.add_fault(None, count=None, latency_ms=1500, region="us-east-1")
    config = chain(creds, double, request_timeout=300, retry={"attempts": 0})
    assert ask(gateway, config) == f"Hello from {SONNET}: hi"
    wait_for_requests(double, 2)
    assert sorted(seen(double), key=lambda r: r[1]) == [(SONNET, "us-east-1", 200), (SONNET, "us-west-2", 200)]
    slow = next(r for r in double.requests() if r["region"] == "us-east-1")
    assert slow["fault"]["latency_ms"] == 1500  # answered after the gateway had given up on it


def double_quota(region: str, **limits):
    from local.bedrock_double.quotas import Quota

    return Quota.from_json({"region": region, **limits})


def wait_for_requests(double: DoubleServer, count: int) -> None:
    """The slow call is recorded when it finally answers; wait so it does not leak into the next test."""
    deadline = time.monotonic() + 5
    while len(double.requests()) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(double.requests()) >= count
