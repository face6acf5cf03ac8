import os

import pytest

from runtime.atomicfile import atomic_write_bytes, atomic_write_text


@pytest.mark.parametrize("old_mode", [0o644, 0o666, 0o640, 0o400])
def test_replacing_never_keeps_the_old_files_mode(tmp_path, old_mode):
    target = tmp_path / "env.json"
    target.write_text("old")
    target.chmod(old_mode)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["env.json"]


def test_a_public_file_gets_the_mode_asked_for(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    target.chmod(0o600)
    atomic_write_text(target, "new", mode=0o644)
    assert target.stat().st_mode & 0o777 == 0o644


def test_through_a_symlink_the_real_file_is_replaced_0600_and_the_link_kept(tmp_path):
    real = tmp_path / "real" / "keys.txt"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o666)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o600


def test_missing_parent_directories_are_created_0700(tmp_path):
    tmp_path.chmod(0o755)
    target = tmp_path / "a" / "b" / "keys.txt"
    atomic_write_text(target, "k")
    assert [oct(d.stat().st_mode & 0o777) for d in (tmp_path / "a", tmp_path / "a" / "b")] == ["0o700", "0o700"]
    assert tmp_path.stat().st_mode & 0o777 == 0o755  # an existing directory is left as it was


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
