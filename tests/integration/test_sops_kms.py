"""SOPS files with AWS KMS recipients against in-process moto."""

import base64
import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from runtime import constants
from runtime.sops import files, kms
from runtime.sops.errors import KmsError

pytestmark = pytest.mark.integration
REGION = "eu-west-1"
ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "kms/secret+1", "AWS_REGION": REGION}


@pytest.fixture
def aws(monkeypatch, tmp_path):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", REGION)):  # fmt: skip
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", constants.ENV_SOPS_AGE_KEY,
                 constants.ENV_SOPS_AGE_KEY_FILE):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(constants.ENV_XDG_CONFIG_HOME, str(tmp_path / "cfg"))
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


def test_kms_round_trip(aws, tmp_path):
    arn = aws.create_key()["KeyMetadata"]["Arn"]
    path = tmp_path / "env.json"
    files.write(path, ENV, kms=[arn])
    stanza = json.loads(path.read_text())["sops"]["kms"][0]
    assert list(stanza) == ["arn", "aws_profile", "created_at", "enc"]
    assert stanza["arn"] == arn and stanza["aws_profile"] == ""
    blob = base64.b64decode(stanza["enc"], validate=True)
    assert aws.decrypt(CiphertextBlob=blob)["Plaintext"].__len__() == 32
    assert files.load(path) == ENV
    assert files.update(path, {"AWS_REGION": "us-east-1"}) == {"AWS_REGION": "changed"}
    assert files.load(path)["AWS_REGION"] == "us-east-1"


def test_kms_alias_and_context(aws, tmp_path):
    key_id = aws.create_key()["KeyMetadata"]["KeyId"]
    aws.create_alias(AliasName="alias/sops", TargetKeyId=key_id)
    alias_arn = f"arn:aws:kms:{REGION}:123456789012:alias/sops"
    key = kms.KmsKey(alias_arn, context=(("app", "portkey"),))
    path = tmp_path / "env.json"
    files.write(path, ENV, kms=[key])
    stanza = json.loads(path.read_text())["sops"]["kms"][0]
    assert stanza["context"] == {"app": "portkey"}
    assert files.load(path) == ENV
    # a different context does not open the data key
    doc = json.loads(path.read_text())
    doc["sops"]["kms"][0]["context"] = {"app": "other"}
    path.write_text(json.dumps(doc))
    with pytest.raises(KmsError, match="could not decrypt"):
        files.load(path)


def test_kms_via_sops_yaml_with_age_fallback(aws, tmp_path, monkeypatch):
    from runtime.sops.age import generate_identity

    identity, recipient = generate_identity()
    arn = aws.create_key()["KeyMetadata"]["Arn"]
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - kms: {arn}\n    age: {recipient}\n")
    monkeypatch.chdir(tmp_path)
    files.write("env.json", ENV)
    doc = json.loads((tmp_path / "env.json").read_text())
    assert len(doc["sops"]["age"]) == 1 and len(doc["sops"]["kms"]) == 1
    assert files.load("env.json") == ENV  # no age identity: KMS opens it
    denied = boto3.client("kms", region_name=REGION)
    stubber = Stubber(denied)
    stubber.add_client_error("decrypt", service_error_code="AccessDeniedException", http_status_code=400)
    stubber.add_client_error("decrypt", service_error_code="AccessDeniedException", http_status_code=400)
    stubber.activate()
    monkeypatch.setattr(kms, "_client", lambda key: denied)
    with pytest.raises(KmsError, match="AccessDeniedException"):
        files.load("env.json")
    monkeypatch.setenv(constants.ENV_SOPS_AGE_KEY, identity)
    assert files.load("env.json") == ENV  # age opens it without KMS


def test_kms_unknown_key_on_encrypt_leaves_no_file(aws, tmp_path):
    arn = f"arn:aws:kms:{REGION}:123456789012:key/00000000-0000-0000-0000-000000000000"
    with pytest.raises(KmsError, match=r"could not encrypt.*NotFoundException"):
        files.write(tmp_path / "env.json", ENV, kms=[arn])
    assert not (tmp_path / "env.json").exists()


def test_kms_access_denied(aws, tmp_path, monkeypatch, capsys):
    arn = aws.create_key()["KeyMetadata"]["Arn"]
    path = tmp_path / "env.json"
    files.write(path, ENV, kms=[arn])
    denied = boto3.client("kms", region_name=REGION)
    stubber = Stubber(denied)
    stubber.add_client_error("decrypt", service_error_code="AccessDeniedException", http_status_code=400)
    stubber.activate()
    monkeypatch.setattr(kms, "_client", lambda key: denied)
    with pytest.raises(KmsError, match=r"AccessDeniedException.*kms:Decrypt") as info:
        files.load(path)
    assert "kms/secret" not in str(info.value)
    stubber.add_client_error("decrypt", service_error_code="AccessDeniedException", http_status_code=400)
    from runtime.cli.secrets import main

    assert main(["decrypt", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "AccessDeniedException" in err


def test_kms_honours_aws_endpoint_url(monkeypatch):
    """boto3 reads AWS_ENDPOINT_URL, so a moto server works without code changes."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:5999")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = kms._client(kms.KmsKey("arn:aws:kms:eu-west-1:123456789012:key/x"))
    assert client.meta.endpoint_url == "http://localhost:5999"
    assert client.meta.region_name == "eu-west-1"
