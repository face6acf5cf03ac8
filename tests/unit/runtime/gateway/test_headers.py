import json

import pytest

import runtime
from runtime import ConfigError, Credentials, ModelNotAllowedError, RejectedParameterError, UnknownModelError, constants
from runtime.gateway.headers import bedrock_auth_headers

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN"
CREDS = Credentials(KEY_ID, SECRET, region="us-east-1")
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch):
    """Lifecycle answers depend on the date: pin it to the day the catalog was checked."""
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")


def test_headers_for_the_native_bedrock_provider():
    headers = runtime.portkey_headers("claude-sonnet-4.5", CREDS)
    assert headers == {
        "x-portkey-provider": "bedrock",
        "x-portkey-aws-access-key-id": KEY_ID,
        "x-portkey-aws-secret-access-key": SECRET,
        "x-portkey-aws-region": "us-east-1",
    }


def test_headers_options_and_session_token():
    creds = Credentials(KEY_ID, SECRET, TOKEN, "eu-west-1")
    headers = runtime.portkey_headers(
        "claude-large",
        creds,
        trace_id="trace-1",
        metadata={"_user": "u-1", "team": "search"},
        custom_host="http://localhost:9999/",
    )
    assert headers["x-portkey-aws-session-token"] == TOKEN
    assert headers["x-portkey-aws-region"] == "eu-west-1"
    assert headers["x-portkey-trace-id"] == "trace-1"
    assert json.loads(headers["x-portkey-metadata"]) == {"_user": "u-1", "team": "search"}
    assert headers["x-portkey-custom-host"] == "http://localhost:9999"


def test_explicit_region_beats_credentials_region():
    creds = Credentials(KEY_ID, SECRET, region="eu-west-1")
    assert runtime.portkey_headers("claude-large", creds, "us-west-2")["x-portkey-aws-region"] == "us-west-2"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"metadata": {"n": 1}}, "metadata values must be strings"),
        ({"custom_host": "localhost:9000"}, "has no http:// or https:// scheme"),
        ({"custom_host": "http://localhost:port"}, "has a port that is not a number"),
        ({"custom_host": "http://localhost:9000\r\nx-evil: 1"}, "control character or non-ASCII"),
        ({"custom_host": "http://localhost:9000\x00"}, "control character or non-ASCII"),
        ({"custom_host": "http://bédrock.example"}, "control character or non-ASCII"),
        ({"trace_id": "t-1\r\nx-portkey-aws-secret-access-key: x"}, "the trace id holds a control character"),
        ({"trace_id": "t\x7f"}, "the trace id holds a control character"),
        ({"trace_id": "t\u00e9"}, "the trace id holds a control character or non-ASCII"),
    ],
)
def test_bad_header_options(kwargs, error):
    with pytest.raises(ConfigError, match=error) as caught:
        runtime.portkey_headers("claude-large", CREDS, **kwargs)
    assert "\n" not in str(caught.value)


def test_custom_host_from_the_environment_is_checked_and_named(monkeypatch):
    monkeypatch.setenv(constants.ENV_CUSTOM_HOST, "http://127.0.0.1:9\n")
    with pytest.raises(ConfigError, match=f"^{constants.ENV_CUSTOM_HOST} holds a control character"):
        bedrock_auth_headers(CREDS)
    monkeypatch.setenv(constants.ENV_CUSTOM_HOST, "http://127.0.0.1:9")
    assert bedrock_auth_headers(CREDS)["x-portkey-custom-host"] == "http://127.0.0.1:9"


def test_custom_host_in_a_config_is_checked_too():
    with pytest.raises(ConfigError, match="control character"):
        runtime.portkey_config("claude-large", CREDS, custom_host="http://h:1\r\n")


@pytest.mark.parametrize("region", ["us-east-\N{SUPERSCRIPT ONE}", "us-east-\N{ARABIC-INDIC DIGIT ONE}", "us-east-1\n"])
def test_a_region_with_a_unicode_digit_is_refused(region):
    with pytest.raises(runtime.RegionError, match="is not an AWS region name"):
        runtime.pick_region(region)
    with pytest.raises(runtime.RegionError):
        runtime.portkey_headers("claude-large", CREDS, region)


def test_headers_check_the_model_before_any_request():
    with pytest.raises(UnknownModelError):
        runtime.portkey_headers("gpt-4o", CREDS)
    with pytest.raises(ModelNotAllowedError):
        runtime.portkey_headers("claude-large", CREDS, allowed=["claude-sonnet-4.5"])


def test_config_for_one_model():
    config = runtime.portkey_config("claude-sonnet-4.5", CREDS)
    assert config == {
        "provider": "bedrock",
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "aws_region": "us-east-1",
        "override_params": {"model": SONNET_45},
        "retry": {"attempts": 3, "on_status_codes": [429, 500, 502, 503, 504]},
    }


def test_config_for_three_models_is_a_fallback_chain_with_keys_per_target():
    creds = Credentials(KEY_ID, SECRET, TOKEN, "us-east-1")
    config = runtime.portkey_config(
        ["claude-large", "claude-sonnet-4.5", "claude-haiku-4.5"],
        creds,
        retry={"attempts": 2, "on_status_codes": [429]},
        custom_host="http://127.0.0.1:9100",
    )
    assert config["strategy"] == {"mode": "fallback", "on_status_codes": [429, 408, 500, 502, 503, 504]}
    assert config["retry"] == {"attempts": 2, "on_status_codes": [429]}
    models = [t["override_params"]["model"] for t in config["targets"]]
    assert models == [
        "global.anthropic.claude-opus-4-5-20251101-v1:0",
        SONNET_45,
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
    ]
    for target in config["targets"]:
        assert target["provider"] == "bedrock"
        assert target["aws_access_key_id"] == KEY_ID
        assert target["aws_secret_access_key"] == SECRET
        assert target["aws_session_token"] == TOKEN
        assert target["aws_region"] == "us-east-1"
        assert target["custom_host"] == "http://127.0.0.1:9100"


def test_config_without_retry_and_header_serialization():
    config = runtime.portkey_config("claude-large", CREDS, retry=None)
    assert "retry" not in config
    header = runtime.config_header(config)
    assert json.loads(header["x-portkey-config"]) == config


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"names": []}, "at least one model"),
        ({"names": ["claude-large", "claude-sonnet-4.5"], "fallback": False}, "fallback=True"),
        ({"names": "claude-large", "retry": {"attempts": 9}}, "from 0 to 5"),
        ({"names": "claude-large", "retry": {"attempts": 2, "on_status_codes": [200]}}, "HTTP error codes"),
    ],
)
def test_bad_config_options(kwargs, error):
    with pytest.raises(ConfigError, match=error):
        runtime.portkey_config(credentials=CREDS, **kwargs)


def test_secret_is_not_in_error_text():
    with pytest.raises(UnknownModelError) as info:
        runtime.portkey_config(["claude-large", "nope"], CREDS)
    assert SECRET not in str(info.value)


def test_chat_request_defaults_max_tokens_from_catalog():
    body = runtime.chat_request("claude-haiku-4.5", [{"role": "user", "content": "hi"}])
    assert body == {
        "model": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4096,
    }


def test_chat_request_keeps_given_params_and_content_arrays_untouched():
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "long context", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "question"},
            ],
        }
    ]
    snapshot = json.dumps(messages)
    body = runtime.chat_request("claude-sonnet-4.5", messages, max_tokens=10, stream=True, region="eu-west-1")
    assert body["messages"] is messages
    assert json.dumps(body["messages"]) == snapshot
    assert body["max_tokens"] == 10
    assert body["stream"] is True
    assert body["model"] == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_gateway_url_default_env_and_argument(monkeypatch):
    assert runtime.gateway_url() == "http://localhost:8787/v1"
    monkeypatch.setenv(constants.ENV_GATEWAY_URL, "http://gw:8787/v1")
    assert runtime.gateway_url() == "http://gw:8787/v1"
    assert runtime.gateway_url("http://explicit/v1") == "http://explicit/v1"


def test_custom_host_from_env_and_argument_beats_it(monkeypatch):
    monkeypatch.setenv(constants.ENV_CUSTOM_HOST, "http://127.0.0.1:9100")
    assert runtime.portkey_headers("claude-large", CREDS)["x-portkey-custom-host"] == "http://127.0.0.1:9100"
    assert runtime.portkey_config("claude-large", CREDS)["custom_host"] == "http://127.0.0.1:9100"
    explicit = runtime.portkey_headers("claude-large", CREDS, custom_host="https://vpce.example")
    assert explicit["x-portkey-custom-host"] == "https://vpce.example"


def test_sdk_options_mirror_the_headers():
    options = runtime.portkey_sdk_options("claude-large", CREDS, metadata={"team": "a"}, trace_id="t")
    assert options == {
        "provider": "bedrock",
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET,
        "aws_region": "us-east-1",
        "trace_id": "t",
        "metadata": {"team": "a"},
    }


def test_chat_request_takes_the_region_of_the_credentials_like_the_headers():
    creds = Credentials(KEY_ID, SECRET, region="eu-west-1")  # AWS_REGION is unset in these tests
    headers = runtime.portkey_headers("claude-sonnet-4.5", creds)
    body = runtime.chat_request("claude-sonnet-4.5", [], credentials=creds)
    assert headers["x-portkey-aws-region"] == "eu-west-1"
    assert body["model"] == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    # without the credentials the default region applies: the mismatch this argument prevents
    assert runtime.chat_request("claude-sonnet-4.5", [])["model"].startswith("us.")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("garbage", "has no http:// or https:// scheme"),
        ("localhost:8787/v1", "has no http:// or https:// scheme"),
        ("http:///v1", "has no host name"),
        ("http://gw:99999/v1", "has a port that is not a number"),
        ("http://gw 1:8787/v1", "contains white space"),
    ],
)
def test_gateway_url_refuses_what_is_not_an_http_url(monkeypatch, url, problem):
    with pytest.raises(runtime.ConfigError, match=problem):
        runtime.gateway_url(url)
    monkeypatch.setenv("PORTKEY_GATEWAY_URL", url)
    with pytest.raises(runtime.ConfigError, match=f"^PORTKEY_GATEWAY_URL {problem}"):
        runtime.gateway_url()


@pytest.mark.parametrize("url", ["http://localhost:8787/v1", "https://gw.example.com/v1", "http://[::1]:8787/v1"])
def test_gateway_url_accepts_http_urls(url):
    assert runtime.gateway_url(url) == url


HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("name", ["claude-large", "claude-sonnet-4.6", "claude-opus-4.7", "claude-haiku-4.5"])
def test_chat_request_default_max_tokens_is_the_catalog_default(name):
    model = runtime.load_catalog().model(name)
    assert runtime.chat_request(name, HI)["max_tokens"] == model.default_max_tokens


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"temperature": 0.2}, "temperature"),
        ({"top_p": 0.9}, "top_p"),
        ({"additional_model_request_fields": {"top_k": 40}}, "top_k"),
    ],
)
def test_chat_request_refuses_sampling_parameters_opus_4_7_rejects(params, parameter):
    with pytest.raises(RejectedParameterError) as info:
        runtime.chat_request("claude-opus-4.7", HI, **params)
    assert str(info.value) == (
        f"claude-opus-4.7 on Amazon Bedrock: `{parameter}` is deprecated for this model. (HTTP 400); omit {parameter}"
    )
    assert isinstance(info.value, ConfigError)


def test_the_same_parameters_pass_for_a_model_that_accepts_them():
    body = runtime.chat_request("claude-opus-4.6", HI, temperature=0.2, top_p=0.9)
    assert (body["temperature"], body["top_p"]) == (0.2, 0.9)


@pytest.mark.parametrize("thinking", [{"type": "enabled", "budget_tokens": 2048}, {"type": "disabled"}])
def test_chat_request_refuses_thinking_types_opus_4_7_rejects(thinking):
    with pytest.raises(
        RejectedParameterError,
        match=r'claude-opus-4\.7 on Amazon Bedrock: "thinking\.type\.(enabled|disabled)" is not supported',
    ) as info:
        runtime.chat_request("claude-opus-4.7", HI, thinking=thinking)
    assert "use thinking={'type': 'adaptive'}" in str(info.value)


def test_adaptive_thinking_passes_where_documented_and_is_refused_on_older_models():
    body = runtime.chat_request("claude-opus-4.7", HI, thinking={"type": "adaptive"})
    assert body["thinking"] == {"type": "adaptive"}
    assert runtime.chat_request("claude-sonnet-4.6", HI, thinking={"type": "adaptive"})["thinking"]
    with pytest.raises(
        RejectedParameterError,
        match=r"claude-sonnet-4\.5 on Amazon Bedrock: thinking\.type: 'adaptive' is not supported",
    ):
        runtime.chat_request("claude-sonnet-4.5", HI, thinking={"type": "adaptive"})
    budget = {"type": "enabled", "budget_tokens": 2048}
    assert runtime.chat_request("claude-sonnet-4.5", HI, thinking=budget)["thinking"] == budget


def test_temperature_and_top_p_together_are_refused_where_aws_says_so():
    with pytest.raises(
        RejectedParameterError,
        match=r"claude-haiku-4\.5 on Amazon Bedrock: `temperature` and `top_p` cannot both be specified",
    ):
        runtime.chat_request("claude-haiku-4.5", HI, temperature=0.5, top_p=0.9)
    assert runtime.chat_request("claude-haiku-4.5", HI, temperature=0.5)["temperature"] == 0.5


def test_max_tokens_above_the_model_output_limit_is_refused():
    limit = runtime.load_catalog().model("claude-opus-4.7").max_output_tokens
    assert runtime.chat_request("claude-opus-4.7", HI, max_tokens=limit)["max_tokens"] == limit
    with pytest.raises(
        RejectedParameterError,
        match=f"> {limit}, which is the maximum allowed number of output tokens.*lower max_tokens to {limit}",
    ):
        runtime.chat_request("claude-opus-4.7", HI, max_tokens=limit + 1)


def test_chat_request_refuses_an_end_of_life_model():
    with pytest.raises(runtime.EndOfLifeError, match="claude-sonnet-4 reached end of life"):
        runtime.chat_request("claude-sonnet-4", HI)


# -- the memoized, credential-free plan of a config (make bench: builds per second) --------------
CHAIN = {"regions": ["us-east-1", "us-west-2"]}
NAMES = ["claude-sonnet-4.6", "claude-haiku-4.5"]


def test_a_rotated_key_shows_in_the_next_config_though_the_plan_is_reused():
    old = Credentials("AKIAOLDOLDOLDOLD0001", "old-secret", region="us-east-1")
    new = Credentials("AKIANEWNEWNEWNEW0002", "new-secret", "new-token", region="us-east-1")
    before = runtime.portkey_config(NAMES, old, **CHAIN)
    after = runtime.portkey_config(NAMES, new, **CHAIN)
    assert {t["aws_secret_access_key"] for t in before["targets"]} == {"old-secret"}
    assert {t["aws_access_key_id"] for t in after["targets"]} == {"AKIANEWNEWNEWNEW0002"}
    assert {t["aws_session_token"] for t in after["targets"]} == {"new-token"}
    assert "old-secret" not in json.dumps(after) and "aws_session_token" not in json.dumps(before)
    assert [t["override_params"] for t in before["targets"]] == [t["override_params"] for t in after["targets"]]


def test_a_reused_plan_hands_out_fresh_objects_every_call():
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret", region="us-east-1")
    first = runtime.portkey_config(NAMES, creds, **CHAIN)
    first["targets"][0]["override_params"]["model"] = "changed"
    first["retry"]["on_status_codes"].append(999)
    first["targets"][-1]["retry"]["on_status_codes"].clear()
    second = runtime.portkey_config(NAMES, creds, **CHAIN)
    assert second["targets"][0]["override_params"]["model"] == "us.anthropic.claude-sonnet-4-6"
    assert 999 not in second["retry"]["on_status_codes"] and second["targets"][-1]["retry"]["on_status_codes"]


def test_the_plan_follows_the_environment_it_depends_on(monkeypatch):
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert runtime.portkey_config("claude-sonnet-4.5", creds)["aws_region"] == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert runtime.portkey_config("claude-sonnet-4.5", creds)["aws_region"] == "us-west-2"
    monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
    with pytest.raises(ModelNotAllowedError):
        runtime.portkey_config("claude-sonnet-4.5", creds)
    monkeypatch.setenv(constants.ENV_CUSTOM_HOST, "http://localhost:9")
    assert runtime.portkey_config("claude-large", creds)["custom_host"] == "http://localhost:9"


def test_api_key_configs_carry_the_current_key_of_each_region(monkeypatch):
    from runtime.credentials import api_key

    minted: list[tuple[str, str]] = []

    def mint(credentials, region, ttl_seconds):
        minted.append((credentials.secret_access_key, region))
        return f"bedrock-api-key-{credentials.secret_access_key}-{region}"

    monkeypatch.setattr(api_key, "mint_bedrock_api_key", mint)
    api_key.clear_cache()
    old = Credentials("AKIAOLDOLDOLDOLD0001", "old", region="us-east-1")
    new = Credentials("AKIANEWNEWNEWNEW0002", "new", region="us-east-1")
    for _ in range(3):
        config = runtime.portkey_config(NAMES, old, auth="api-key", **CHAIN)
    assert [t["api_key"] for t in config["targets"]][:2] == [
        "bedrock-api-key-old-us-east-1",
        "bedrock-api-key-old-us-west-2",
    ]
    assert minted == [("old", "us-east-1"), ("old", "us-west-2")]  # then from the cache, per region
    config = runtime.portkey_config(NAMES, new, auth="api-key", **CHAIN)
    assert {t["api_key"] for t in config["targets"]} == {
        "bedrock-api-key-new-us-east-1",
        "bedrock-api-key-new-us-west-2",
    }
    api_key.clear_cache()


def test_headers_follow_the_environment_and_the_credentials_of_each_call(monkeypatch):
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert runtime.portkey_headers("claude-sonnet-4.5", creds)["x-portkey-aws-region"] == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    assert runtime.portkey_headers("claude-sonnet-4.5", creds)["x-portkey-aws-region"] == "us-west-2"
    rotated = Credentials("AKIAROTATEDKEY000002", "rotated", region="us-west-2")
    assert runtime.portkey_headers("claude-sonnet-4.5", rotated)["x-portkey-aws-secret-access-key"] == "rotated"
    monkeypatch.setenv(constants.ENV_ALLOWED_MODELS, "claude-large")
    with pytest.raises(ModelNotAllowedError):
        runtime.portkey_headers("claude-sonnet-4.5", creds)
