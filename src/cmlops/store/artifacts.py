"""Content-addressed, write-once blobs: ``artifacts/sha256/ab/cdef…``.

A blob is written to a temporary file in the same folder tree, fsynced,
renamed into place (atomic on POSIX) and made read-only; its name is the
SHA-256 of its bytes, so ``verify`` needs nothing but the file itself. An
existing blob is never rewritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cmlops.atomic_files import fsync_dir
from cmlops.errors import ArtifactError, InvalidInputError, StoreNotWritableError

_CHUNK = 1 << 20
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _check_digest(digest: str) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise InvalidInputError(f"{digest!r} is not a SHA-256 artifact digest (64 hex characters)")
    return digest


class ArtifactStore:
    """Write-once blob storage under ``root`` addressed by SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        digest = _check_digest(digest)
        return self.root / "sha256" / digest[:2] / digest[2:]

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 hex digest."""
        return self._put(iter([bytes(data)]))

    def put_file(self, source: str | os.PathLike[str]) -> str:
        """Copy a file into the store (streaming); return its SHA-256 hex digest."""
        try:
            handle = open(source, "rb")
        except FileNotFoundError:
            raise InvalidInputError(f"cannot store {source}: no such file") from None

        def chunks() -> Iterator[bytes]:
            with handle:
                while block := handle.read(_CHUNK):
                    yield block

        return self._put(chunks())

    def _put(self, chunks: Iterator[bytes]) -> str:
        staging = self.root / "tmp"
        try:
            staging.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(dir=staging, prefix="blob-")
        except OSError as error:
            raise StoreNotWritableError(
                f"cannot write artifacts under {self.root} ({error.strerror}): set CMLOPS_HOME "
                "to a writable folder"
            ) from None
        digest = hashlib.sha256()
        try:
            with os.fdopen(descriptor, "wb") as out:
                for block in chunks:
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            name = digest.hexdigest()
            final = self.path(name)
            if final.exists():
                if not self.verify(name):
                    raise ArtifactError(
                        f"artifact {name} exists but its bytes do not match its name: the store "
                        "was tampered with; keep it for investigation and run `cmlops audit verify`"
                    )
                return name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(temporary, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(temporary, final)
            fsync_dir(final.parent)
            return name
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def open(self, digest: str) -> BinaryIO:
        path = self.path(digest)
        if not path.is_file():
            raise ArtifactError(f"artifact {digest} is not in {self.root}")
        return open(path, "rb")

    def verify(self, digest: str) -> bool:
        """True when the blob exists and its bytes hash to its name."""
        path = self.path(digest)
        if not path.is_file():
            return False
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(_CHUNK):
                hasher.update(block)
        return hasher.hexdigest() == digest

    def digests(self) -> Iterator[str]:
        base = self.root / "sha256"
        if not base.is_dir():
            return
        for prefix in sorted(base.iterdir()):
            for blob in sorted(prefix.iterdir()):
                name = prefix.name + blob.name
                if _DIGEST.fullmatch(name):
                    yield name

    def verify_all(self) -> list[str]:
        """Digests of every blob whose bytes no longer match its name."""
        return [digest for digest in self.digests() if not self.verify(digest)]
