"""`python -m local.aws`: up/down/status/env, stale state, port in use."""

import json
import socket
import subprocess
import urllib.request

import pytest

from local.aws import LocalAws, main, parse_state

pytestmark = pytest.mark.integration


def dead_pid():
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_down_when_nothing_runs_is_not_an_error(tmp_path, capsys):
    assert main(["down", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == "local AWS was not running"


def test_env_when_nothing_runs_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["env", "--state-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "python -m local.aws up" in err


def test_stale_state_file_is_dropped(tmp_path, capsys):
    state = tmp_path / "aws.json"
    state.write_text(json.dumps({"pid": dead_pid(), "port": 1}))
    assert LocalAws(state_dir=tmp_path).status() is None
    assert not state.exists()
    state.write_text("not json")
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    assert not state.exists()


def test_session_server_state_env_and_reuse(local_aws, capsys):
    state = local_aws.state
    recorded = parse_state(local_aws.state_file.read_text())
    assert recorded == state and state.endpoint == f"http://localhost:{state.port}"
    with urllib.request.urlopen(f"{state.endpoint}/moto-api/data.json", timeout=5) as reply:  # noqa: S310
        assert reply.status == 200
    again = LocalAws(state_dir=local_aws.state_dir)
    assert again.start().pid == state.pid and not again.started_here
    assert main(["env", "--state-dir", str(local_aws.state_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"export AWS_ENDPOINT_URL=http://localhost:{state.port}" in lines
    assert "export AWS_ACCESS_KEY_ID=testing" in lines and "export AWS_REGION=us-east-1" in lines


def test_bedrock_double_runs_in_the_server_when_present(local_aws):
    import importlib.util

    if importlib.util.find_spec("local.bedrock_double") is None:
        pytest.skip("local.bedrock_double not present")
    assert local_aws.state.bedrock_port is not None


def test_port_in_use_picks_another_and_down_stops_it(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        aws = LocalAws(state_dir=tmp_path, port=taken)
        state = aws.start()
        try:
            assert state.port != taken
            with urllib.request.urlopen(f"{state.endpoint}/moto-api/data.json", timeout=5) as reply:  # noqa: S310
                assert reply.status == 200
        finally:
            assert main(["down", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("local AWS stopped")
    assert not aws.state_file.exists()
    assert aws.status() is None


def _status(port, path, host):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "127.0.0.1"])
def test_moto_and_the_double_refuse_a_foreign_host(local_aws, host):
    # DNS rebinding: a page under a foreign name must not read /moto-api/data.json (the local IAM secret)
    state = local_aws.state
    assert _status(state.port, "/moto-api/data.json", host.format(port=state.port)) == 403
    assert _status(state.bedrock_port, "/_double/health", host.format(port=state.bedrock_port)) == 403


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_moto_and_the_double_serve_the_loopback_host(local_aws, name):
    state = local_aws.state
    assert _status(state.port, "/moto-api/data.json", f"{name}:{state.port}") == 200
    assert _status(state.bedrock_port, "/_double/health", f"{name}:{state.bedrock_port}") == 200
