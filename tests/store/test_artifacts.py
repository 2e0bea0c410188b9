"""Write-once, content-addressed blobs."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from cmlops.errors import ArtifactError, InvalidInputError
from cmlops.store import ArtifactStore


def test_put_names_blobs_by_sha256_and_makes_them_read_only(tmp_path) -> None:
    artifacts = ArtifactStore(tmp_path / "artifacts")
    digest = artifacts.put_bytes(b"evidence")
    assert digest == hashlib.sha256(b"evidence").hexdigest()
    path = artifacts.path(digest)
    assert path.read_bytes() == b"evidence"
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert artifacts.verify(digest) and artifacts.has(digest)
    assert not list((tmp_path / "artifacts" / "tmp").iterdir())


def test_identical_content_is_stored_once_and_files_stream(tmp_path) -> None:
    artifacts = ArtifactStore(tmp_path / "a")
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * (1 << 20) + 7))
    first = artifacts.put_file(source)
    assert artifacts.put_bytes(source.read_bytes()) == first
    assert list(artifacts.digests()) == [first]
    with artifacts.open(first) as handle:
        assert handle.read() == source.read_bytes()


def test_tampered_blobs_are_found_and_never_silently_reused(tmp_path) -> None:
    artifacts = ArtifactStore(tmp_path / "a")
    digest = artifacts.put_bytes(b"original")
    path = artifacts.path(digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"changed")
    assert not artifacts.verify(digest)
    assert artifacts.verify_all() == [digest]
    with pytest.raises(ArtifactError, match="tampered"):
        artifacts.put_bytes(b"original")


def test_bad_digests_and_missing_blobs_are_clear_errors(tmp_path) -> None:
    artifacts = ArtifactStore(tmp_path / "a")
    for bad in ("../../etc/passwd", "ab", "Z" * 64):
        with pytest.raises(InvalidInputError):
            artifacts.path(bad)
    with pytest.raises(ArtifactError, match="not in"):
        artifacts.open("0" * 64)
    with pytest.raises(InvalidInputError, match="no such file"):
        artifacts.put_file(tmp_path / "missing")
