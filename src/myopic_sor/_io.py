"""Atomic file writes: a reader never sees a half-written file, a failure leaves the old one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_with", "write_json_atomic"]


def _umask_mode() -> int:
    current = os.umask(0)
    os.umask(current)
    return 0o666 & ~current


def _temp_beside(path: Path) -> tuple[int, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, _umask_mode())  # mkstemp makes 0600; give the file the usual permissions
    return fd, Path(tmp)


@contextmanager
def atomic_write(path: Path) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path`` for binary writing; ``os.replace`` it onto
    ``path`` on success (after fsync), delete it on failure."""
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)`` for a temporary path next to ``path``, then ``os.replace`` it.

    For writers (pyarrow, pandas) that want a path rather than an open file.
    """
    fd, tmp = _temp_beside(path)
    os.close(fd)
    try:
        write(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (UTF-8, trailing newline) atomically."""
    with atomic_write(path) as fh:
        fh.write((json.dumps(obj, indent=2) + "\n").encode("utf-8"))
