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


def test_an_interrupted_cli_is_stopped_with_its_whole_process_group(tmp_path):
    """Ctrl-C while the CLI runs: npx, the CLI, the app and jsii's node (here: a shell and its two
    children) all stop, not only the direct child."""
    import os

    from stacks.cdk_cli import cli_process

    group = None
    with (
        pytest.raises(KeyboardInterrupt),
        cli_process(["sh", "-c", "sleep 60 & sleep 60 & wait"], tmp_path, os.environ) as proc,
    ):
        group = proc.pid
        raise KeyboardInterrupt
    assert proc.returncode is not None
    assert live_members(group) == []  # nobody of the group is left (zombies awaiting init do not count)


def live_members(pgid):
    """Pids of the process group that are not zombies (Linux /proc)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def test_ctrl_c_in_app_py_is_one_line_and_exit_130(tmp_path):
    import os
    import subprocess
    import sys

    from stacks.cdk_cli import QUIET_JSII_ENV, REPO_ROOT

    script = (
        "import os, signal, app, stacks.app\n"
        "def ctrl_c(*a, **k): os.kill(os.getpid(), signal.SIGINT)\n"
        "stacks.app.build_app = ctrl_c\n"
        "app.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update({**QUIET_JSII_ENV, "CDK_CONTEXT_JSON": '{"access_key_serial": "1", "portkey-bedrock:resolved": "true"}',
                "PYTHONPATH": str(REPO_ROOT)})  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 130
    assert done.stderr == "interrupted: synth stopped, nothing deployed by this app\n"


def test_ctrl_c_in_stacks_deploy_is_one_line_and_exit_130(monkeypatch, capsys):
    import signal

    from stacks import deploy as deploy_mod

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(deploy_mod, "deploy", interrupted)
    try:
        assert deploy_mod.main([]) == 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("interrupted: the CDK CLI was stopped")
