"""IQ: installed files against their RECORD hashes, the environment against the tested set."""

from __future__ import annotations

import base64
import hashlib
from importlib import metadata
from pathlib import Path

import pytest

from cmlops.build_info import build_info
from cmlops.selftest.installation import (
    added_files,
    environment_deviations,
    qualify_installation,
    record_problems,
)

pytestmark = pytest.mark.req("REQ-CSV-002")


def _installed(site: Path) -> metadata.Distribution:
    """A distribution installed the way pip does it: files plus a RECORD of their hashes."""
    files = {
        "cmlops/__init__.py": b"VERSION = 1\n",
        "cmlops/stats/delong.py": b"def auc():\n    return 0.893\n",
        "cmlops/templates/t.ipynb": b"{}",
    }
    lines = []
    for rel, data in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_bytes(data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{rel},sha256={digest},{len(data)}")
    info = site / "cmlops-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: cmlops\nVersion: 0.1.0\n")
    lines += ["cmlops-0.1.0.dist-info/METADATA,,", "cmlops-0.1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return metadata.PathDistribution(info)


def test_an_intact_installation_matches_its_record(tmp_path: Path) -> None:
    dist = _installed(tmp_path)
    assert record_problems(dist) == ([], 3)
    assert added_files(dist) == []


def test_a_changed_missing_or_added_file_is_named(tmp_path: Path) -> None:
    dist = _installed(tmp_path)
    (tmp_path / "cmlops/stats/delong.py").write_bytes(b"def auc():\n    return 0.999\n")
    (tmp_path / "cmlops/templates/t.ipynb").unlink()
    (tmp_path / "cmlops/stats/backdoor.py").write_text("import os\n")
    (tmp_path / "cmlops/stats/__pycache__").mkdir()
    (tmp_path / "cmlops/stats/__pycache__/delong.cpython-311.pyc").write_bytes(b"\0")
    problems, checked = record_problems(dist)
    assert problems == ["changed: cmlops/stats/delong.py", "missing: cmlops/templates/t.ipynb"]
    assert checked == 2
    assert added_files(dist) == ["cmlops/stats/backdoor.py"]  # compiled caches are not code


def test_the_running_copy_is_qualified_against_the_tested_set() -> None:
    """In CI the suite imports the installed, non-editable cmlops: IQ-01..05 pass on it."""
    current = build_info()
    checks = {c.id: c for c in qualify_installation(current)}
    assert list(checks) == ["IQ-01", "IQ-02", "IQ-03", "IQ-04", "IQ-05", "IQ-06"]
    if checks["IQ-01"].passed:  # not under PYTHONPATH=src (a developer's quick run)
        assert checks["IQ-02"].passed and checks["IQ-03"].passed, checks
    assert checks["IQ-04"].passed and checks["IQ-05"].passed
    assert checks["IQ-06"].passed and not checks["IQ-06"].deviations
    missing = {c.id: c for c in qualify_installation(None)}["IQ-06"]
    assert not missing.passed and missing.observed == "no tested set found"


def test_every_difference_from_the_tested_set_is_a_named_deviation() -> None:
    current = build_info()
    tested = {
        **current,
        "python": "3.10.0",
        "platform": "Darwin-23.0-arm64",
        "dependencies": {**current["dependencies"], "scipy": "0.1", "retired": "1.0"},
    }
    del tested["dependencies"]["numpy"]
    deviations = environment_deviations(current, tested)
    assert deviations == [
        f"python {current['python']} (tested: 3.10.0)",
        "operating system Linux (tested: Darwin)",
        f"numpy {current['dependencies']['numpy']} (tested: absent)",
        "retired absent (tested: 1.0)",
        f"scipy {current['dependencies']['scipy']} (tested: 0.1)",
    ]
    lenient = {c.id: c for c in qualify_installation(tested)}["IQ-06"]
    strict = {c.id: c for c in qualify_installation(tested, require_tested=True)}["IQ-06"]
    assert lenient.passed and lenient.deviations == tuple(deviations)
    assert not strict.passed and "5 deviation(s)" in strict.observed
