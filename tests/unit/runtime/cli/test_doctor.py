import contextlib
import json
import socket

import pytest

from runtime.cli import doctor


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


def _template(user_arn: str) -> str:
    return json.dumps(
        {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"UserArn": {"Value": user_arn}},
        }
    )


@contextlib.contextmanager
def _aws_checking_keys(*, may_describe_stacks: bool, stack_user_arn: str | None = None):
    """moto that verifies access keys and IAM policies after the set-up calls made here."""
    moto = pytest.importorskip("moto")
    import boto3
    from moto.core.authorization import disable_iam_authentication, enable_iam_authentication

    with moto.mock_aws(), disable_iam_authentication():
        admin = {"region_name": "us-east-1", "aws_access_key_id": "AKIA" + "A" * 16, "aws_secret_access_key": "x"}
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="u")
        key = iam.create_access_key(UserName="u")["AccessKey"]
        iam.put_user_policy(
            UserName="u",
            PolicyName="sts",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}
            ),
        )
        if may_describe_stacks:
            statement = {"Effect": "Allow", "Action": "cloudformation:DescribeStacks", "Resource": "*"}
            iam.put_user_policy(
                UserName="u",
                PolicyName="cfn",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
        if stack_user_arn is not None:
            cfn = boto3.client("cloudformation", **admin)
            cfn.create_stack(StackName="PortkeyBedrockAccess", TemplateBody=_template(stack_user_arn))
        with enable_iam_authentication():
            yield doctor.Credentials(key["AccessKeyId"], key["SecretAccessKey"])


USER_ARN = "arn:aws:iam::123456789012:user/u"


def test_credentials_rejected_by_sts_name_the_fix():
    with _aws_checking_keys(may_describe_stacks=False) as good:
        check = doctor.check_sts(good, "us-east-1")
        assert check.ok, check.line
        assert f"accepted by STS as {USER_ARN} (not compared with" in check.line
        assert "this key may not read the stack" in check.line  # denied DescribeStacks is not a failure
        assert good.secret_access_key not in check.line

        wrong_secret = doctor.Credentials(good.access_key_id, "x" * 40)
        check = doctor.check_sts(wrong_secret, "us-east-1")
        assert not check.ok
        assert "(SignatureDoesNotMatch)" in check.line
        assert "re-pull the SOPS file (python -m runtime secrets pull)" in check.line

        unknown_key = doctor.Credentials("AKIA" + "Z" * 16, "x" * 40)
        check = doctor.check_sts(unknown_key, "us-east-1")
        assert not check.ok
        assert "(InvalidClientTokenId)" in check.line
        assert "re-pull the SOPS file" in check.line


def test_sts_identity_is_compared_with_the_stacks_user_arn():
    with _aws_checking_keys(may_describe_stacks=True, stack_user_arn=USER_ARN) as creds:
        check = doctor.check_sts(creds, "us-east-1")
        assert check.ok, check.line
        assert check.line.endswith(f"accepted by STS as {USER_ARN}, the user of stack PortkeyBedrockAccess")
        check = doctor.check_sts(creds, "us-east-1", "NoSuchStack")
        assert check.ok
        assert "no such stack here; pass --stack NAME" in check.line


def test_a_key_of_another_user_than_the_stacks_fails():
    other = "arn:aws:iam::123456789012:user/portkey-bedrock-access"
    with _aws_checking_keys(may_describe_stacks=True, stack_user_arn=other) as creds:
        check = doctor.check_sts(creds, "us-east-1")
        assert not check.ok
        assert f"belong to {USER_ARN}, not to stack PortkeyBedrockAccess's user {other}" in check.line


def _gateway_error(message: str) -> bytes:
    return json.dumps({"error": {"message": f"bedrock error: {message}"}, "provider": "bedrock"}).encode()


INVALID_TOKEN = "The security token included in the request is invalid."
BAD_SIGNATURE = "The request signature we calculated does not match the signature you provided."
POLICY_DENIAL = (
    "User: arn:aws:iam::123456789012:user/portkey-bedrock-access is not authorized to perform: "
    "bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/x"
)
MARKETPLACE = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required AWS "
    "Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model."
)
USE_CASE = "Model use case details have not been submitted for this account. Fill out the Anthropic use case form."


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (403, INVALID_TOKEN, "rejected-key"),
        (403, BAD_SIGNATURE, "rejected-key"),
        (403, "UnrecognizedClientException", "rejected-key"),
        (403, "InvalidSignatureException: x", "rejected-key"),
        (403, "SignatureDoesNotMatch", "rejected-key"),
        (403, POLICY_DENIAL, "policy-denial"),
        (403, "AccessDeniedException", "policy-denial"),
        (403, MARKETPLACE, "model-access"),
        (403, USE_CASE, "model-access"),
        (429, "Too many requests, please wait before trying again.", "throttled"),
        (500, "The system encountered an unexpected error", None),
        (400, "Input validation failed.", None),
    ],
)
def test_refusals_are_classified(status, message, kind):
    assert doctor.classify_refusal(status, message) == kind


@pytest.mark.parametrize(
    ("message", "says", "never_says"),
    [
        (INVALID_TOKEN, "re-pull the SOPS file (python -m runtime secrets pull) or check the key", "allowed_models"),
        (BAD_SIGNATURE, "re-pull the SOPS file", "allowed_models"),
        (POLICY_DENIAL, "add claude-large to allowed_models and redeploy", "re-pull"),
        (MARKETPLACE, "an account admin must enable the model in the Bedrock console", "allowed_models"),
        (USE_CASE, "Anthropic: complete the use-case form", "allowed_models"),
    ],
)
def test_each_403_names_its_own_fix(message, says, never_says):
    line = doctor.describe_http_error(403, _gateway_error(message), "claude-large")
    assert line.startswith("HTTP 403 (bedrock error: ")
    assert says in line
    assert never_says not in line  # the old doctor told a rotated key to edit allowed_models
    assert "\n" not in line


def test_gateway_down_points_at_the_loopback_launcher(capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    check = doctor.check_gateway(url)
    assert not check.ok
    assert "make gateway (or python -m local.gateway up)" in check.line
    assert "npx" not in check.line


@pytest.mark.parametrize(
    ("argv", "env", "error"),
    [
        (["--gateway-url", "not-a-url"], None, "error: --gateway-url has no http:// or https:// scheme"),
        (["--gateway-url", "http://gw:port/v1"], None, "error: --gateway-url has a port that is not a number"),
        ([], "garbage", "error: PORTKEY_GATEWAY_URL has no http:// or https:// scheme"),
    ],
)
def test_a_bad_gateway_url_is_one_line_exit_2(capsys, monkeypatch, argv, env, error):
    if env is not None:
        monkeypatch.setenv("PORTKEY_GATEWAY_URL", env)
    assert doctor.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(error)
    assert captured.err.count("\n") == 1
    if env is not None:
        assert env not in captured.err  # the value is not repeated (it could be a pasted secret)


def test_a_good_gateway_url_from_the_environment_is_used(capsys, monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    monkeypatch.setenv("PORTKEY_GATEWAY_URL", url)
    assert doctor.main([]) == 1
    assert f"FAIL gateway {url[:-2]} not reachable" in capsys.readouterr().out


def test_doctor_warns_about_legacy_models_and_skips_end_of_life_ones(capsys, monkeypatch):
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")
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


def test_expired_short_term_key_gets_its_own_fix():
    body = b'{"error": {"message": "bedrock error: Bearer Token has expired"}, "provider": "bedrock"}'
    line = doctor.describe_http_error(403, body, "claude-large")
    assert line == f"HTTP 403 (bedrock error: Bearer Token has expired); {doctor.FIX_API_KEY_EXPIRED}"


def test_missing_call_with_bearer_token_names_the_stack_option():
    body = (
        b'{"error": {"message": "bedrock error: User: arn:aws:iam::1:user/u is not authorized to perform: '
        b'bedrock:CallWithBearerToken because no identity-based policy allows it"}}'
    )
    line = doctor.describe_http_error(403, body, "claude-large")
    assert line.endswith(doctor.FIX_API_KEYS_OFF) and "api_keys=short-term" in line


def test_unknown_auth_mode_is_a_usage_error(capsys):
    assert doctor.main(["--auth", "bearer"]) == 2


def test_operator_access_check_names_the_step(monkeypatch):
    """doctor --live --operator: GetFoundationModelAvailability per model, the step when not callable."""
    from runtime.catalog import check as catalog_check
    from runtime.cli.doctor import check_access

    ok = {"agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
          "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}  # fmt: skip
    bodies = {
        "anthropic.claude-opus-4-7": ok,
        "anthropic.claude-sonnet-4-6": {**ok, "authorizationStatus": "NOT_AUTHORIZED"},
    }

    class Client:
        def get_foundation_model_availability(self, modelId):
            return {"modelId": modelId, **bodies[modelId]}

    monkeypatch.setattr(catalog_check, "bedrock_client", lambda region, profile: Client())
    checks = check_access(["claude-opus-4.7", "claude-sonnet-4.6"], "us-east-1", None)
    assert [c.ok for c in checks] == [True, False]
    assert checks[0].line == "access: claude-opus-4.7 (anthropic.claude-opus-4-7) is callable now"
    assert "use-case form" in checks[1].line


def test_operator_access_check_without_credentials_is_one_fail_line(monkeypatch):
    from runtime.catalog import check as catalog_check
    from runtime.cli.doctor import check_access

    def no_client(region, profile):
        raise catalog_check.CheckError("no AWS credentials found; these calls need operator credentials")

    monkeypatch.setattr(catalog_check, "bedrock_client", no_client)
    (check,) = check_access(["claude-opus-4.7"], "us-east-1", None)
    assert not check.ok and check.line.startswith("model access: no AWS credentials found")


def test_doctor_reads_portkey_bedrock_sops_file_before_the_aws_variables(capsys, monkeypatch, tmp_path):
    """`local.aws env` exports AWS_ACCESS_KEY_ID=testing and PORTKEY_BEDROCK_SOPS_FILE: the file wins."""
    from runtime.sops import files
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    monkeypatch.setenv("SOPS_AGE_KEY", identity)
    path = tmp_path / "env.json"
    files.write(path, {"AWS_ACCESS_KEY_ID": "AKIA" + "F" * 16, "AWS_SECRET_ACCESS_KEY": "s" * 40,
                       "AWS_REGION": "us-east-1"}, age=[recipient])  # fmt: skip
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("PORTKEY_BEDROCK_SOPS_FILE", str(path))
    monkeypatch.setattr(doctor, "check_sts", lambda creds, region, stack: doctor.Check(True, creds.access_key_id))
    doctor.main(["--gateway-url", f"http://127.0.0.1:{_closed_port()}/v1"])
    out = capsys.readouterr().out
    assert f"ok   credentials found (SOPS file {path} ($PORTKEY_BEDROCK_SOPS_FILE))" in out
    assert "ok   AKIAFFFFFFFFFFFFFFFF" in out  # the file's key was checked, not `testing`
    monkeypatch.delenv("PORTKEY_BEDROCK_SOPS_FILE")
    doctor.main(["--gateway-url", f"http://127.0.0.1:{_closed_port()}/v1"])
    assert "ok   testing" in capsys.readouterr().out  # without it: the environment, as before


def _stack_template(model_ids: str) -> str:
    return json.dumps(
        {
            "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {"UserArn": {"Value": USER_ARN}, "ModelIds": {"Value": model_ids}},
        }
    )


def test_live_checks_only_the_models_the_deployed_stack_allows(monkeypatch):
    moto = pytest.importorskip("moto")
    import boto3

    ids = "us.anthropic.claude-haiku-4-5-20251001-v1:0,us.anthropic.claude-sonnet-4-6"
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        boto3.client("cloudformation", region_name="us-east-1").create_stack(
            StackName="PortkeyBedrockAccess", TemplateBody=_stack_template(ids)
        )
        creds = doctor.Credentials("testing", "testing")
        allowed = doctor.stack_allowed_models(creds, "us-east-1", "PortkeyBedrockAccess")
        assert allowed == ["claude-haiku-4.5", "claude-sonnet-4.6"]
        assert doctor.stack_allowed_models(creds, "us-east-1", "NoSuchStack") is None  # then: the catalog's
    checks, names = doctor.check_models("us-east-1", allowed)
    assert names == ["claude-haiku-4.5", "claude-sonnet-4.6"] and all(check.ok for check in checks)
    assert len(doctor.check_models("us-east-1")[1]) > 2
