"""Replace a file atomically: the old content stays byte-identical unless the new one is complete.

Used for every file the project writes that someone relies on: SOPS files, `.sops.yaml`, age keys,
state and output files, the catalog cache.
"""

import contextlib
import os
import stat
import tempfile


def atomic_write_bytes(path: "str | os.PathLike[str]", data: bytes, mode: int = 0o600) -> None:
    """Write `data` to a temporary file beside `path`, fsync it, then rename it over `path` and
    fsync the directory. An existing file keeps its permission bits; a new one gets `mode`.

    >>> import pathlib, tempfile
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "f.txt"
    >>> atomic_write_bytes(target, b"one"); atomic_write_bytes(target, b"two"); target.read_bytes()
    b'two'
    >>> oct(target.stat().st_mode & 0o777)
    '0o600'
    """
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    with contextlib.suppress(FileNotFoundError):
        mode = stat.S_IMODE(os.stat(path).st_mode)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
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
