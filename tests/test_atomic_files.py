"""The one atomic writer: complete or untouched, unique temporary names, honest permissions."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cmlops.atomic_files import atomic_open, write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_permissions_follow_the_umask_not_mkstemp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        written = write_atomic(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert written.read_text() == "{}"
    assert _mode(written) == 0o644


def test_read_only_and_private_modes(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        evidence = write_atomic(tmp_path / "e.bin", b"\x00\x01", read_only=True)
        key = write_atomic(tmp_path / "k.json", "secret", file_mode=0o600)
    finally:
        os.umask(old)
    assert _mode(evidence) == 0o444
    assert _mode(key) == 0o600
    assert evidence.read_bytes() == b"\x00\x01"


def test_a_failed_write_leaves_the_target_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_replace_false_never_touches_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "signed.json"
    target.write_text("evidence")
    with pytest.raises(FileExistsError):
        write_atomic(target, "forgery", replace=False)
    assert target.read_text() == "evidence"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signed.json"]
    fresh = write_atomic(tmp_path / "new.json", "x", replace=False)
    assert fresh.read_text() == "x"


def test_concurrent_writers_each_leave_a_whole_file(tmp_path: Path) -> None:
    """Two processes writing the same target at once: the result is one of them, whole."""
    target = tmp_path / "signatures.json"
    script = (
        "import sys; from cmlops.atomic_files import write_atomic\n"
        "for _ in range(200): write_atomic(sys.argv[1], sys.argv[2] * 50000)\n"
    )
    writers = [
        subprocess.Popen([sys.executable, "-c", script, str(target), letter])
        for letter in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    assert target.read_text() in ("a" * 50000, "b" * 50000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signatures.json"]
