import json
import subprocess
import sys

import pytest

from runtime.cli import main

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def today_is_the_catalog_date(monkeypatch):
    """Lifecycle answers depend on the date: pin it to the day the catalog was checked."""
    monkeypatch.setattr("runtime.catalog.model.today_utc", lambda: "2026-11-23")


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


def test_models_table_lists_every_catalog_model(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "claude-large" in out
    assert "global.anthropic.claude-opus-4-5-20251101-v1:0" in out
    assert "us.anthropic.claude-sonnet-4-5-20250929-v1:0" in out


def test_models_json(capsys):
    assert main(["models", "--json", "--region", "eu-west-1"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["claude-sonnet-4.5"]["bedrock_id"] == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_models_json_is_typed(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    large = rows["claude-large"]
    assert isinstance(large["max_tokens"], int) and not isinstance(large["max_tokens"], bool)
    assert rows["claude-opus-4.7"]["max_output_tokens"] == 128000
    assert rows["claude-opus-4.7"]["rejected_params"] == ["temperature", "top_p", "top_k"]
    assert rows["claude-opus-4.7"]["thinking"] == ["adaptive"]
    assert large["allowed"] is True
    assert large["aliases"] == ["claude-opus-4.5", "opus-4.5"]
    assert isinstance(large["sources"], list) and large["sources"][0].startswith("https://docs.aws.amazon.com/")
    assert large["capabilities"]["streaming"] is True
    assert large["status"] == "active" and large["eol_date"] is None
    assert large["destinations"] == ["*"]
    legacy = rows["claude-sonnet-4.5"]
    assert (legacy["status"], legacy["legacy_date"], legacy["eol_date"]) == ("legacy", "2026-10-08", "2027-04-08")
    assert isinstance(legacy["replacement"], str)


def test_models_marks_an_entry_whose_profiles_only_catalog_sync_knows(capsys, monkeypatch):
    monkeypatch.delenv("PORTKEY_BEDROCK_ALLOWED_MODELS", raising=False)
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    pending, fable = rows["claude-opus-5.5"], rows["claude-fable-5"]
    assert (pending["bedrock_id"], pending["allowed"], pending["offers_from_sync"]) == (None, False, True)
    assert (fable["bedrock_id"], fable["allowed"], fable["offers_from_sync"]) == (
        "global.anthropic.claude-fable-5",
        True,
        False,
    )
    assert main(["models"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("claude-opus-5.5 "))
    assert "(no profile on an AWS page yet: catalog sync)" in line and line.rstrip().endswith("no")


def test_models_hides_end_of_life_models_unless_all(capsys):
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert "claude-sonnet-4 " not in table and "claude-sonnet-4-20250514" not in table
    assert main(["models", "--all"]) == 0
    table = capsys.readouterr().out
    header, *lines = table.splitlines()
    assert header.split() == [
        "name",
        "aliases",
        "status",
        "eol_date",
        "replacement",
        "bedrock_id",
        "max_tokens",
        "rules",
        "allowed",
    ]
    row = next(line for line in lines if line.startswith("claude-sonnet-4 "))
    assert "eol" in row.split() and "2026-10-14" in row
    assert "us.anthropic.claude-sonnet-4-20250514-v1:0" in row  # the historic id stays visible
    assert row.split()[-1] == "no"  # never allowed
    legacy = next(line for line in lines if line.startswith("claude-sonnet-4.5 "))
    assert "legacy" in legacy.split() and "2027-04-08" in legacy


def test_models_all_json_keeps_the_historic_id(capsys):
    assert main(["models", "--all", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["claude-sonnet-4"]["bedrock_id"] == "us.anthropic.claude-sonnet-4-20250514-v1:0"
    assert rows["claude-sonnet-4"]["status"] == "eol"
    assert rows["claude-sonnet-4"]["allowed"] is False


def test_resolve_end_of_life_model_exits_2_naming_date_and_replacement(capsys):
    assert main(["resolve", "claude-sonnet-4"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: claude-sonnet-4 reached end of life on Amazon Bedrock on 2026-10-14; use ")
    assert captured.err.count("\n") == 1


def test_resolve_legacy_model_warns_on_stderr_in_one_line(capsys):
    assert main(["resolve", "claude-sonnet-4.5"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert captured.err.startswith("warning: claude-sonnet-4.5 is Legacy on Amazon Bedrock since 2026-10-08")
    assert captured.err.count("\n") == 1


def test_resolve_active_model_prints_no_warning(capsys):
    assert main(["resolve", "claude-large"]) == 0
    assert capsys.readouterr().err == ""


def test_resolve_suggests_aliases(capsys):
    assert main(["resolve", "opus"]) == 2
    err = capsys.readouterr().err
    suggested = err.split("did you mean ", 1)[1].split("?", 1)[0].split(", ")
    assert {"claude-large", "claude-opus-5", "claude-opus-5.5"} <= set(suggested)


def test_resolve_of_a_model_only_catalog_sync_can_route_says_so(capsys):
    """Claude Sonnet 5.5: its Bedrock id is on Anthropic's page, its profiles on no AWS page."""
    assert main(["resolve", "claude-sonnet-5.5", "--region", "us-east-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "claude-sonnet-5.5 (anthropic.claude-sonnet-5-5) has no inference profile" in err
    assert "python -m runtime catalog sync" in err


def test_resolve(capsys):
    assert main(["resolve", "Claude_Sonnet_4.5", "--region", "eu-west-1"]) == 0
    assert capsys.readouterr().out.strip() == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["resolve", "gpt-4o"], "unknown model 'gpt-4o'"),
        (["resolve", "claude-large", "--region", "nowhere"], "not an AWS region name"),
        (["resolve", "claude-haiku-4.5", "--region", "ap-southeast-1"], "is not offered from region ap-southeast-1"),
        (["resolve", "claude-sonnet-4.5", "--region", "us-gov-west-1"], "aws-us-gov partition, which is not supported"),
        (["resolve", "claude-large", "--region", "cn-north-1"], "aws-cn partition, which is not supported"),
        (["models", "--region", "us-gov-west-1"], "aws-us-gov partition"),
        (["headers", "claude-large"], "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY missing"),
        (["resolve"], "the following arguments are required: name"),
        (["nonsense"], "invalid choice: 'nonsense'"),
        (["doctor", "--bogus"], "unrecognized arguments: --bogus"),
        (["secrets", "decrypt"], "the following arguments are required: file"),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_2(capsys, argv, error):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert error in captured.err
    assert captured.err.count("\n") == 1


def test_headers_redacted_by_default(capsys, aws_env):
    assert main(["headers", "claude-large"]) == 0
    out = capsys.readouterr().out
    headers = json.loads(out)
    assert SECRET not in out
    assert KEY_ID not in out
    assert headers["x-portkey-aws-secret-access-key"] == "<redacted>"
    assert headers["x-portkey-provider"] == "bedrock"


def test_headers_show_secrets_on_request(capsys, aws_env):
    assert main(["headers", "claude-large", "--show-secrets"]) == 0
    headers = json.loads(capsys.readouterr().out)
    assert headers["x-portkey-aws-secret-access-key"] == SECRET


def test_python_dash_m_entry_point(aws_env):
    done = subprocess.run(
        [sys.executable, "-m", "runtime", "resolve", "claude-large"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == "global.anthropic.claude-opus-4-5-20251101-v1:0"


def test_headers_for_a_legacy_model_warn_on_stderr(capsys, aws_env):
    assert main(["headers", "claude-sonnet-4.5"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["x-portkey-provider"] == "bedrock"
    assert captured.err.startswith("warning: claude-sonnet-4.5 is Legacy on Amazon Bedrock")
    assert SECRET not in captured.err


@pytest.mark.parametrize(("value", "code"), [("all", 0), ("ALL", 0), ("none", 2), ("", 2)])
def test_allowed_models_all_works_and_none_is_an_error_in_the_cli(capsys, monkeypatch, value, code):
    monkeypatch.setenv("PORTKEY_BEDROCK_ALLOWED_MODELS", value)
    assert main(["resolve", "claude-large"]) == code
    captured = capsys.readouterr()
    if code:
        assert "names no model" in captured.err and captured.err.count("\n") == 1
    else:
        assert captured.out.strip() == "global.anthropic.claude-opus-4-5-20251101-v1:0"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["headers", "claude-large", "--trace-id", "t1\r\nx-evil: 1"], "the trace id holds a control character"),
        (["headers", "claude-large", "--region", "us-east-\N{SUPERSCRIPT ONE}"], "is not an AWS region name"),
    ],
)
def test_bad_header_values_are_one_line_exit_2(capsys, aws_env, argv, error):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and error in captured.err and captured.err.count("\n") == 1
    assert SECRET not in captured.err
