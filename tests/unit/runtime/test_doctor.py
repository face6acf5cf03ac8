import socket

import pytest

from runtime import doctor


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_gateway_down_and_no_credentials_fail_with_one_line_each(capsys, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    assert doctor.main(["--gateway-url", url]) == 1
    out = capsys.readouterr().out.splitlines()
    fails = [line for line in out if line.startswith("FAIL")]
    assert any("not reachable" in line and "PORTKEY_GATEWAY_URL" in line for line in fails)
    assert any("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY missing" in line for line in fails)
    assert "ok   claude-large -> global.anthropic.claude-opus-4-5-20251101-v1:0" in out
    assert out[-1] == "doctor: some checks failed (see FAIL lines)"


def test_model_that_has_no_profile_in_the_region_fails(capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    doctor.main(["--gateway-url", url, "--region", "ap-southeast-1"])
    out = capsys.readouterr().out
    assert "FAIL claude-haiku-4.5: claude-haiku-4.5 is not offered from region ap-southeast-1" in out
    assert "ok   claude-large -> global.anthropic.claude-opus-4-5-20251101-v1:0" in out


def test_credentials_rejected_by_sts_name_the_fix(monkeypatch):
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        import boto3

        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="u")
        key = iam.create_access_key(UserName="u")["AccessKey"]
        good = doctor.Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        check = doctor.check_sts(good, "us-east-1")
        assert check.ok
        assert check.line.endswith("arn:aws:iam::123456789012:user/u")
        assert key["SecretAccessKey"] not in check.line


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            b'{"error": {"message": "bedrock error: not authorized"}}',
            "HTTP 403 (bedrock error: not authorized); add claude-large to allowed_models and redeploy (cdk deploy)",
        ),
        (429, b"", "HTTP 429 (throttled); retry later or add retry/fallback (runtime.portkey_config)"),
        (500, b"not json", "HTTP 500 (no details); check the gateway log and the Bedrock service status"),
    ],
)
def test_describe_http_error_examples(status, body, expected):
    assert doctor.describe_http_error(status, body, "claude-large") == expected


@pytest.mark.parametrize(
    ("url", "root"), [("http://localhost:8787/v1", "http://localhost:8787/"), ("http://gw:8787/v1/", "http://gw:8787/")]
)
def test_gateway_root_examples(url, root):
    assert doctor.gateway_root(url) == root


def test_doctor_warns_about_legacy_models_and_skips_end_of_life_ones(capsys, monkeypatch):
    monkeypatch.setattr("runtime.catalog.today_utc", lambda: "2026-11-23")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    doctor.main(["--gateway-url", url, "--region", "us-east-1"])
    out = capsys.readouterr().out.splitlines()
    warnings = [line for line in out if "Legacy" in line]
    assert warnings == [
        "ok   warning: claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08 and reaches end of life on "
        "2027-04-08; move to claude-sonnet-4.6 (accounts that have not used it recently cannot call it)"
    ]
    assert not any(line.startswith(("ok   claude-sonnet-4 ", "FAIL claude-sonnet-4:")) for line in out)


def test_doctor_fails_an_end_of_life_model_the_allow_list_names(capsys, monkeypatch):
    monkeypatch.setenv("PORTKEY_BEDROCK_ALLOWED_MODELS", "claude-large,claude-sonnet-4")
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    assert doctor.main(["--gateway-url", url, "--region", "us-east-1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL claude-sonnet-4: claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use " in out


def test_lifecycle_check_is_silent_for_active_models():
    assert doctor.check_lifecycle(["claude-large", "claude-opus-4.7"]) == []
