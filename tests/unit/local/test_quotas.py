"""Per-source-region quotas of the Bedrock double: Bedrock's 429 ThrottlingException, exactly worded."""

from __future__ import annotations

import http.client
import json

import pytest

from local.bedrock_double import DoubleClient
from local.bedrock_double.errors import BedrockError
from local.bedrock_double.quotas import TOO_MANY_REQUESTS, TOO_MANY_TOKENS, Quota, Quotas, reserved_tokens
from runtime.errors import ConfigError
from tests.unit.local.test_server import PROMPT, error_of, send

BODY = {"messages": [{"role": "user", "content": [{"text": "one two three"}]}], "inferenceConfig": {"maxTokens": 7}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_wordings_are_bedrocks():
    assert TOO_MANY_REQUESTS == "Too many requests, please wait before trying again."
    assert TOO_MANY_TOKENS == "Too many tokens, please wait before trying again."


def test_requests_per_minute_per_source_region_and_window():
    clock = Clock()
    quotas = Quotas(clock)
    quotas.set([Quota("us-east-1", requests_per_minute=2)])
    quotas.admit("us-east-1", "m", BODY)
    quotas.admit("us-east-1", "m", BODY)
    with pytest.raises(BedrockError) as err:
        quotas.admit("us-east-1", "m", BODY)
    assert (err.value.status, err.value.error_type, err.value.message) == (
        429,
        "ThrottlingException",
        TOO_MANY_REQUESTS,
    )
    quotas.admit("us-west-2", "m", BODY)  # no quota there
    quotas.admit("us-east-1", "other-model", BODY)  # counted per model
    clock.now = 59.9
    with pytest.raises(BedrockError):
        quotas.admit("us-east-1", "m", BODY)
    clock.now = 60.0
    quotas.admit("us-east-1", "m", BODY)
    assert quotas.describe()["throttled"] == {"us-east-1": 2}


def test_tokens_per_minute_reserve_input_plus_max_tokens():
    assert reserved_tokens(BODY) == 3 + 7
    quotas = Quotas(Clock())
    quotas.set([Quota("us-east-1", tokens_per_minute=25)])
    quotas.admit("us-east-1", "m", BODY)
    quotas.admit("us-east-1", "m", BODY)  # 20 of 25
    with pytest.raises(BedrockError) as err:
        quotas.admit("us-east-1", "m", BODY)
    assert (err.value.status, err.value.message) == (429, TOO_MANY_TOKENS)


def test_a_throttled_request_reserves_nothing():
    clock = Clock()
    quotas = Quotas(clock)
    quotas.set([Quota("us-east-1", requests_per_minute=1, window_seconds=1)])
    quotas.admit("us-east-1", "m", BODY)
    for _ in range(5):
        with pytest.raises(BedrockError):
            quotas.admit("us-east-1", "m", BODY)
    clock.now = 1.0
    quotas.admit("us-east-1", "m", BODY)


def test_a_quota_for_one_model_leaves_others_alone():
    quotas = Quotas(Clock())
    quotas.set([Quota("us-east-1", model="a", requests_per_minute=0)])
    quotas.admit("us-east-1", "b", BODY)
    with pytest.raises(BedrockError):
        quotas.admit("us-east-1", "a", BODY)


@pytest.mark.parametrize(
    "quota",
    [
        {"region": "us-east-1"},
        {"region": "nowhere", "requests_per_minute": 1},
        {"region": "us-east-1", "requests_per_minute": -1},
        {"region": "us-east-1", "tokens_per_minute": True},
        {"region": "us-east-1", "requests_per_minute": 1, "window_seconds": 0},
        {"region": "us-east-1", "requests_per_minute": 1, "bogus": 1},
    ],
)
def test_bad_quotas_are_rejected(quota):
    with pytest.raises(ConfigError):
        Quota.from_json(quota)


def test_quota_over_http_answers_429_for_the_signing_region_only(double, signer, path_for, profile_id):
    client = DoubleClient(double.url)
    described = client.set_quotas([{"region": "us-east-1", "requests_per_minute": 1}])
    assert described["quotas"][0]["requests_per_minute"] == 1
    assert send(double, signer, path_for(profile_id))[0].status == 200
    status, error_type, message = error_of(*send(double, signer, path_for(profile_id)))
    assert (status, error_type, message) == (429, "ThrottlingException", TOO_MANY_REQUESTS)
    assert client.quotas()["throttled"] == {"us-east-1": 1}
    client.clear_quotas()
    assert send(double, signer, path_for(profile_id))[0].status == 200
    client.set_quotas([{"region": "us-east-1", "requests_per_minute": 0}])
    client.reset()
    assert client.quotas() == {"quotas": [], "throttled": {}}


def test_bad_quota_over_http_is_400(double):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    conn.request("POST", "/_double/quotas", body=json.dumps([{"region": "us-east-1"}]))
    response = conn.getresponse()
    assert response.status == 400
    assert json.loads(response.read())["message"]
    conn.close()


def test_region_scoped_latency_fault_slows_only_that_source_region(double, signer, path_for, profile_id):
    client = DoubleClient(double.url)
    client.add_fault(None, count=None, latency_ms=300, region="us-west-2")
    response, _ = send(double, signer, path_for(profile_id), PROMPT)
    assert response.status == 200
    [entry] = double.requests()
    assert entry["fault"] is None  # us-east-1 signed: the us-west-2 fault did not apply
    assert entry["elapsed_ms"] < 300
