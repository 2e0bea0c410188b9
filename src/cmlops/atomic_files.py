"""Atomic, durable file writes: the one way cmlops puts a file in place.

Evidence must never be half-written, and a crash must never leave a mix of old
and new bytes. Every writer in cmlops therefore writes to a temporary file with
a *unique* name in the target's own folder (so two writers never share a
temporary file and the rename stays on one file system), flushes and fsyncs
it, renames it over the target (or links it into place when the target must
not be replaced), then fsyncs the folder so the rename itself survives a power
loss.

Permissions follow the user's umask like an ordinary ``open()`` (``mkstemp``
alone would leave 0600), unless the caller asks for a private file
(``mode=0o600``, keys) or a read-only one (``read_only=True``, evidence).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "fsync_dir", "write_atomic"]


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Flush a folder's entries (a rename or link in it) to disk; a no-op where unsupported."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot fsync a directory; the rename is still atomic
    finally:
        os.close(descriptor)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _final_mode(mode: int | None, read_only: bool) -> int:
    if mode is None:
        mode = 0o666 & ~_current_umask()
    if read_only:
        mode &= ~0o222
    return mode


@contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    replace: bool = True,
    read_only: bool = False,
    file_mode: int | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it becomes ``path`` atomically.

    ``mode`` is ``"w"`` (UTF-8 text) or ``"wb"``. With ``replace=False`` an
    existing ``path`` is never touched: :class:`FileExistsError` is raised and
    the temporary file removed. ``file_mode`` sets the permission bits (default:
    0666 minus the umask); ``read_only`` clears the write bits. If the block
    raises, the target is left exactly as it was.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes with mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    folder = target.parent
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        encoding = None if mode == "wb" else "utf-8"
        with os.fdopen(descriptor, mode, encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), _final_mode(file_mode, read_only))
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # fails with FileExistsError instead of replacing
            os.unlink(temporary)
        fsync_dir(folder)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def write_atomic(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    replace: bool = True,
    read_only: bool = False,
    file_mode: int | None = None,
) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; see :func:`atomic_open`."""
    with atomic_open(
        path,
        "wb" if isinstance(data, bytes) else "w",
        replace=replace,
        read_only=read_only,
        file_mode=file_mode,
    ) as handle:
        handle.write(data)
    return Path(path)
