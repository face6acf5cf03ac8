import json
import os
import socket

import pytest

from local import gateway


def test_free_port_is_bindable_on_loopback():
    port = gateway.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_port_taken_detects_a_listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert gateway._port_taken(sock.getsockname()[1])
    assert not gateway._port_taken(gateway.free_port())


def test_fixed_port_in_use_is_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        with pytest.raises(gateway.GatewayError, match="in use"):
            gateway.start_gateway(sock.getsockname()[1])


def test_missing_gateway_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(gateway, "GATEWAY_JS", tmp_path / "start-server.js")
    with pytest.raises(gateway.GatewayError, match="npm ci"):
        gateway.start_gateway()


def test_recorded_pid_must_be_the_gateway():
    assert not gateway._is_our_gateway(os.getpid())


def test_cli_status_and_down_without_state(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(gateway, "STATE_FILE", tmp_path / "gateway.json")
    assert gateway.main(["status"]) == 1
    assert "not running" in capsys.readouterr().err
    assert gateway.main(["down"]) == 0


def test_cli_ignores_a_stale_state_file(monkeypatch, tmp_path, capsys):
    state = tmp_path / "gateway.json"
    state.write_text(json.dumps({"pid": os.getpid(), "port": 1, "base_url": "x", "log": "y"}))
    monkeypatch.setattr(gateway, "STATE_FILE", state)
    assert gateway.main(["status"]) == 1
    assert gateway.main(["down"]) == 0  # does not kill the recycled pid (this test process)
    assert not state.exists()


def test_up_on_another_port_than_the_running_gateway_says_the_port_differs(monkeypatch, tmp_path, capsys):
    state = tmp_path / "gateway.json"
    url = "http://127.0.0.1:8787/v1"
    state.write_text(json.dumps({"pid": os.getpid(), "port": 8787, "base_url": url, "log": "y"}))
    monkeypatch.setattr(gateway, "STATE_FILE", state)
    monkeypatch.setattr(gateway, "_is_our_gateway", lambda pid: True)
    assert gateway.main(["up", "--port", "8788"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"already runs at {url}" in err and "not on the requested port 8788" in err
    assert gateway.main(["up", "--port", "8787"]) == 0  # the same port: it is simply there
    assert f"already running at {url}" in capsys.readouterr().out
