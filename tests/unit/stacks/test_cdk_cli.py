"""stacks/cdk_cli.py: pure helpers, cases beyond their doctests."""

import pytest

from stacks.cdk_cli import context_args, error_tail


@pytest.mark.parametrize(
    ("context", "expected"),
    [({}, [])],
)
def test_context_args(context, expected):
    assert context_args(context) == expected


def test_error_tail_drops_node_banners():
    output = "!! node 20 !!\nb'!! x'\n(node:1) Warning\nreal line\n\n❌ failed\nError: boom\n"
    assert error_tail(output, lines=3) == "real line\n❌ failed\nError: boom"


# --- no CDK CLI: one line, never `npx cdk` (issue 18, item 8) ----------------------------------


def test_no_cli_is_one_line_naming_both_fixes(tmp_path, monkeypatch):
    from stacks import cdk_cli

    monkeypatch.setattr(cdk_cli.shutil, "which", lambda name: None)
    with pytest.raises(cdk_cli.CdkError) as caught:
        cdk_cli.cdk_command(tmp_path)  # a wheel install: no node_modules beside the package
    message = str(caught.value)
    assert "\n" not in message and "no CDK CLI found" in message
    assert "make install" in message and "npm install -g aws-cdk@2" in message


def test_a_cdk_on_path_is_used_and_npx_never(tmp_path, monkeypatch):
    from stacks import cdk_cli

    monkeypatch.setattr(cdk_cli.shutil, "which", lambda name: f"/opt/bin/{name}")
    assert cdk_cli.cdk_command(tmp_path) == ["/opt/bin/cdk"]


def test_the_checkouts_pinned_cli_comes_first(tmp_path):
    from stacks import cdk_cli

    local = tmp_path / "node_modules" / ".bin" / "cdk"
    local.parent.mkdir(parents=True)
    local.write_text("")
    assert cdk_cli.cdk_command(tmp_path) == [str(local)]
