"""Local AWS's Bedrock control plane (data generated from the catalog) and `catalog check` against
it through a real boto3 client: clean as generated, one line for each kind of injected drift."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import boto3
import pytest
from werkzeug.serving import make_server

from local.bedrock_control_plane import DATA_FILE, ENV_DATA_FILE, ControlPlaneApp, dumps, generate
from runtime import catalog_check
from runtime.catalog import load_catalog

REGION = "us-east-1"


def not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"moto would answer here"]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, ControlPlaneApp(not_found), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def client(endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return boto3.client("bedrock", region_name=REGION, endpoint_url=endpoint)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """An editable copy of the data file that the server answers from."""
    path = tmp_path / "control_plane.json"
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))

    def save() -> None:
        path.write_text(json.dumps(data), encoding="utf-8")

    save()
    monkeypatch.setenv(ENV_DATA_FILE, str(path))
    return data, save


def run(client, capsys, *args):
    code = catalog_check.main(["--region", REGION, *args], client=client)
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def test_the_committed_data_is_generated_from_the_catalog():
    assert DATA_FILE.read_text(encoding="utf-8") == dumps(generate()), (
        "local/data/bedrock_control_plane.json is stale: run python -m local.bedrock_control_plane generate"
    )


def test_responses_have_the_aws_shapes(client):
    models = client.list_foundation_models()["modelSummaries"]
    assert models and {"modelArn", "modelId", "providerName", "modelLifecycle"} <= set(models[0])
    assert {m["modelLifecycle"]["status"] for m in models} <= {"ACTIVE", "LEGACY"}
    page = client.list_inference_profiles(typeEquals="SYSTEM_DEFINED", maxResults=2)
    assert len(page["inferenceProfileSummaries"]) == 2 and page["nextToken"]
    profile = page["inferenceProfileSummaries"][0]
    got = client.get_inference_profile(inferenceProfileIdentifier=profile["inferenceProfileId"])
    assert got["inferenceProfileArn"] == profile["inferenceProfileArn"] and got["models"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_inference_profile(inferenceProfileIdentifier="us.anthropic.nope-v1:0")


def test_no_eol_model_is_listed():
    catalog = load_catalog()
    listed = {m["modelId"] for r in generate()["regions"].values() for m in r["ListFoundationModels"]["modelSummaries"]}
    assert all(not catalog.by_invoke_id[i][0].is_eol() for i in listed if i in catalog.by_invoke_id)


@pytest.mark.parametrize("region", ["us-east-1", "us-west-1", "ca-central-1", "eu-west-1", "ap-northeast-1"])
def test_check_is_clean_as_generated(endpoint, monkeypatch, capsys, region):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("bedrock", region_name=region, endpoint_url=endpoint)
    code = catalog_check.main(["--region", region], client=client)
    out = capsys.readouterr().out
    assert (code, out.startswith(f"catalog matches Bedrock in {region}")) == (0, True), out


def summaries(data):
    return data["regions"][REGION]["ListFoundationModels"]["modelSummaries"]


def profiles(data):
    return data["regions"][REGION]["ListInferenceProfiles"]["inferenceProfileSummaries"]


def test_a_model_turned_legacy_is_reported(client, data_copy, capsys):
    data, save = data_copy
    active = next(m for m in summaries(data) if m["modelLifecycle"]["status"] == "ACTIVE")
    active["modelLifecycle"]["status"] = "LEGACY"
    save()
    code, lines, _ = run(client, capsys)
    assert code == 1
    assert lines == [line for line in lines if line.startswith("drift: lifecycle: ")] and len(lines) == 1
    assert active["modelId"] in lines[0] and "is LEGACY on Bedrock in us-east-1" in lines[0]


def test_a_model_gone_from_the_list_is_reported_as_end_of_life(client, data_copy, capsys):
    data, save = data_copy
    gone = summaries(data).pop(0)
    save()
    code, lines, _ = run(client, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("drift: end-of-life: ") and gone["modelId"] in lines[0]


def test_a_missing_profile_is_reported(client, data_copy, capsys):
    data, save = data_copy
    gone = profiles(data).pop(0)
    save()
    code, lines, _ = run(client, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("drift: profile-missing: ") and gone["inferenceProfileId"] in lines[0]


def test_a_destination_the_catalog_lacks_is_reported(client, data_copy, capsys):
    data, save = data_copy
    geo = next(p for p in profiles(data) if p["inferenceProfileId"].startswith("us."))
    model_id = geo["models"][0]["modelArn"].rsplit("/", 1)[1]
    geo["models"].append({"modelArn": f"arn:aws:bedrock:us-west-1::foundation-model/{model_id}"})
    save()
    code, lines, _ = run(client, capsys)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("drift: destination: ")
    assert f"{geo['inferenceProfileId']} from us-east-1 routes to us-west-1" in lines[0]


def test_a_newer_model_of_a_listed_family_is_reported(client, data_copy, capsys):
    data, save = data_copy
    newer = json.loads(json.dumps(summaries(data)[0]))
    newer.update(
        modelId="anthropic.claude-opus-9-9",
        modelArn="arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-9-9",
    )
    summaries(data).append(newer)
    older = json.loads(json.dumps(newer))
    older.update(modelId="anthropic.claude-opus-3-0-20240229-v1:0")  # an old one is not news
    summaries(data).append(older)
    save()
    code, lines, _ = run(client, capsys, "--json")
    report = json.loads("\n".join(lines))
    assert code == 1 and report["clean"] is False
    assert [(d["kind"], d["bedrock_id"]) for d in report["drift"]] == [("newer-model", "anthropic.claude-opus-9-9")]


def test_bad_region_and_missing_credentials_are_one_line_exit_2(endpoint, monkeypatch, capsys):
    assert catalog_check.main(["--region", "nowhere"], client=object()) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert catalog_check.main(["--region", "us-gov-west-1"], client=object()) == 2
    assert "not supported" in capsys.readouterr().err
    from botocore.exceptions import ClientError, NoCredentialsError

    class Failing:
        def __init__(self, error):
            self.error = error

        def list_foundation_models(self):
            raise self.error

    assert catalog_check.main(["--region", REGION], client=Failing(NoCredentialsError())) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no AWS credentials found") and err.count("\n") == 1
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListFoundationModels")
    assert catalog_check.main(["--region", REGION], client=Failing(denied)) == 2
    err = capsys.readouterr().err
    assert "AccessDeniedException; run with operator credentials" in err and err.count("\n") == 1


def test_the_cli_dispatches_catalog_check(capsys):
    from runtime.cli import main

    assert main(["catalog", "check", "--bogus"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
