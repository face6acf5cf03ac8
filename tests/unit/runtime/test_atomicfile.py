import os

import pytest

from runtime.atomicfile import atomic_write_bytes, atomic_write_text


def test_replaces_content_and_keeps_existing_permissions(tmp_path):
    target = tmp_path / "env.json"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["env.json"]


def test_new_file_gets_the_private_mode(tmp_path):
    target = tmp_path / "keys.txt"
    atomic_write_bytes(target, b"k")
    assert target.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failure_mid_write_leaves_the_old_file_byte_identical_and_no_temp(tmp_path, monkeypatch, failing):
    target = tmp_path / "env.json"
    target.write_bytes(b'{"old": true}\n')

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_bytes() == b'{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["env.json"]
