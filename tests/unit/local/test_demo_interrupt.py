"""Ctrl-C during `make demo`: what it started is stopped, one line, exit 130 — even when a second
Ctrl-C lands while it is cleaning up."""

import os
import signal

import pytest

from local import demo


class FakeAws:
    def __init__(self) -> None:
        self.started_here = True
        self.stopped = False

    def stop(self) -> bool:
        self.stopped = True
        return True

    def status(self) -> object | None:
        return None if self.stopped or not self.started_here else object()


class FakeGateway:
    def __init__(self, on_stop=None) -> None:
        self.stopped = False
        self.on_stop = on_stop

    def stop(self) -> None:
        if self.on_stop:
            self.on_stop()  # a second Ctrl-C arrives right now
        self.stopped = True


@pytest.fixture
def fakes(monkeypatch):
    aws = FakeAws()
    monkeypatch.setattr("local.aws.LocalAws", lambda state_dir=None: aws)
    return aws


def test_ctrl_c_late_stops_everything_and_prints_one_line(monkeypatch, fakes, capsys, tmp_path):
    gateway = FakeGateway(on_stop=lambda: os.kill(os.getpid(), signal.SIGINT))

    def steps(aws, paths, gateways):
        gateways.append(gateway)  # the gateway is up, the doctor step is running...
        raise KeyboardInterrupt  # ...when Ctrl-C arrives

    monkeypatch.setattr(demo, "_run", steps)
    assert demo.main(["--state-dir", str(tmp_path)]) == demo.EXIT_INTERRUPTED
    assert gateway.stopped and fakes.stopped  # the second Ctrl-C did not cut the clean-up short
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "demo interrupted: stopped the gateway and local AWS it had started\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_keep_leaves_local_aws_running_and_says_so(monkeypatch, fakes, capsys, tmp_path):
    def steps(aws, paths, gateways):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_run", steps)
    assert demo.main(["--keep", "--state-dir", str(tmp_path)]) == 130
    assert not fakes.stopped
    assert "local AWS left running (make down stops it)" in capsys.readouterr().err


def test_ctrl_c_while_local_aws_starts_does_not_say_it_was_left_running(monkeypatch, fakes, capsys, tmp_path):
    def steps(aws, paths, gateways):
        aws.started_here = False  # LocalAws.start stopped the half-started server and re-raised
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_run", steps)
    assert demo.main(["--state-dir", str(tmp_path)]) == 130
    assert capsys.readouterr().err == "demo interrupted: stopped the gateway and local AWS it had started\n"


def test_a_failed_step_is_one_line_and_stops_local_aws(monkeypatch, fakes, capsys, tmp_path):
    def steps(aws, paths, gateways):
        raise demo.DemoFailed("stacks.deploy --quiet failed (exit 1)")

    monkeypatch.setattr(demo, "_run", steps)
    assert demo.main(["--state-dir", str(tmp_path)]) == 1
    assert fakes.stopped
    assert capsys.readouterr().err == "demo failed: stacks.deploy --quiet failed (exit 1)\n"


def test_demo_paths_are_the_ones_local_aws_env_prints(tmp_path):
    from local.aws import AwsState, app_env

    paths = demo.Paths(tmp_path)
    env = app_env(AwsState(pid=1, port=5000, bedrock_port=6000), tmp_path, None)
    assert env["PORTKEY_BEDROCK_SOPS_FILE"] == str(paths.sops_file)
    assert env["SOPS_AGE_KEY_FILE"] == str(paths.age_keys)
    from local.aws import DEFAULT_STATE_DIR, SOPS_FILE_PATH  # what `make rotate` (local.rotate) re-pulls

    assert demo.Paths(DEFAULT_STATE_DIR).sops_file == DEFAULT_STATE_DIR / SOPS_FILE_PATH


def test_sigterm_stops_the_demo_like_ctrl_c_and_its_step_gets_to_clean_up(monkeypatch, fakes, capsys, tmp_path):
    """`timeout 300 make demo`: SIGTERM runs the same clean-up, and the running step (stacks.deploy,
    which then stops the CDK CLI's process group) is sent SIGTERM, not SIGKILL, so it cleans up too."""
    import sys

    cleaned = tmp_path / "step-cleaned-up"
    step = (
        "import os, signal, sys, time\n"
        f"def clean_up(*a):\n    open({str(cleaned)!r}, 'w').close()\n    sys.exit(143)\n"
        "signal.signal(signal.SIGTERM, clean_up)\n"
        "os.kill(os.getppid(), signal.SIGTERM)\n"  # the demo is sent SIGTERM (as timeout(1) does) while this step runs
        "while True:\n    time.sleep(1)\n"
    )

    def steps(aws, paths, gateways):
        demo.run([sys.executable, "-c", step], dict(os.environ))

    monkeypatch.setattr(demo, "_run", steps)
    before = signal.getsignal(signal.SIGTERM)
    assert demo.main(["--state-dir", str(tmp_path)]) == demo.EXIT_INTERRUPTED
    assert cleaned.exists()  # the step's own SIGTERM handler ran: it was not SIGKILLed
    assert fakes.stopped
    assert signal.getsignal(signal.SIGTERM) is before  # restored
    assert capsys.readouterr().err == "demo interrupted: stopped the gateway and local AWS it had started\n"
