"""Replace a file atomically: the old content stays byte-identical unless the new one is complete.

Used for every file the project writes that someone relies on: SOPS files, `.sops.yaml`, age keys,
state and output files, the catalog cache.

Two rules make it safe for secrets: the written file always gets exactly `mode` (never the replaced
file's bits, never a symlink target's), and a symlinked `path` is resolved once, so the real file is
replaced and the link stays a link (writing over the link itself would leave the real file stale).
Missing parent directories are created 0700.
"""

import contextlib
import os
import tempfile

PRIVATE_DIR_MODE = 0o700


def make_private_dirs(directory: str) -> None:
    """Create `directory` and any missing parents with mode 0700 (``os.makedirs`` gives the
    intermediate ones the umask's default, often 0755); existing directories are left alone.

    >>> import pathlib, tempfile
    >>> base = pathlib.Path(tempfile.mkdtemp())
    >>> make_private_dirs(str(base / "a" / "b"))
    >>> [oct(p.stat().st_mode & 0o777) for p in (base / "a", base / "a" / "b")]
    ['0o700', '0o700']
    """
    missing = []
    current = os.path.abspath(directory)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, PRIVATE_DIR_MODE)
            os.chmod(path, PRIVATE_DIR_MODE)  # the umask may have removed bits


def atomic_write_bytes(path: "str | os.PathLike[str]", data: bytes, mode: int = 0o600) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path` and
    fsync the directory. The result always has permission bits `mode`.

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "f.txt"
    >>> atomic_write_bytes(target, b"one"); atomic_write_bytes(target, b"two"); target.read_bytes()
    b'two'
    >>> oct(target.stat().st_mode & 0o777)
    '0o600'
    """
    real = os.path.realpath(path)  # a symlink: write the file it names, keep the link
    directory = os.path.dirname(real)
    name = os.path.basename(real)
    make_private_dirs(directory)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_text(path: "str | os.PathLike[str]", text: str, mode: int = 0o600) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text with ``\\n`` line ends."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)
