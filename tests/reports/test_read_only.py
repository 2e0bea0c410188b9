"""Packages the environment cannot break: every file and folder is written read-only.

The write attempts run in a real separate process as an ordinary user (``nobody``
when the tests run as root, who ignores permission bits; the test user otherwise)
that owns the package, as the scientist who ran the report would.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from tests.reports.conftest import ECHO_BODY, make_template

pytestmark = pytest.mark.kernel
NOBODY = 65534

#: write attempts in a shell of their own (an ordinary user may not run this venv's Python)
ATTEMPTS = r"""
cd "$1" || exit 9
try() {
  label=$1; shift
  if "$@" 2>/dev/null; then echo "$label: done"; else echo "$label: refused"; fi
}
try "checkpoint folder" mkdir .ipynb_checkpoints
try "new file" sh -c 'echo x > notes.txt'
try "edit report" sh -c 'echo x >> report.html'
try "replace results" sh -c 'echo {} > results.json'
try "delete notebook" rm -f notebook.ipynb
try "rename manifest" mv manifest.json manifest.old
try "file in audit/" sh -c 'echo x > audit/x'
try "read report" sh -c 'head -c 15 report.html > /dev/null'
"""


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[path.relative_to(root).as_posix()] = stat.S_IMODE(path.lstat().st_mode)
    return found


def _as_owner(root: Path) -> dict:
    """Give the package to an ordinary user and run the write attempts as that user."""
    if os.geteuid() != 0:
        return {}
    for path in [root, *root.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)

    def drop() -> None:
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return {"preexec_fn": drop}


@pytest.fixture
def base():
    """A folder every user may enter (pytest's own tmp folders are private to their owner)."""
    from cmlops.reports.package import remove_tree

    folder = Path(tempfile.mkdtemp(prefix="cmlops-ro-"))
    folder.chmod(0o755)
    yield folder
    remove_tree(folder)


@pytest.mark.req("REQ-PKG-010")
def test_package_files_and_folders_are_read_only_for_their_owner(base: Path, store) -> None:
    template = make_template(base / "echo.ipynb", ECHO_BODY)
    run = run_report(template, {}, out=base / "pkg", store=store, progress=False)
    assert run.ok, run.error
    modes = _modes(run.package)
    assert {"manifest.json", "report.html", "notebook.ipynb", "audit", "audit/trail.jsonl"} <= set(
        modes
    )
    writable = {name: oct(mode) for name, mode in modes.items() if mode & 0o222}
    assert writable == {}
    umask = os.umask(0)
    os.umask(umask)
    assert modes["report.html"] == 0o444 & ~umask
    assert stat.S_IMODE(run.zip.stat().st_mode) == modes["report.html"]  # zip as the files
    options = _as_owner(run.package)
    child = subprocess.run(
        ["/bin/sh", "-c", ATTEMPTS, "attempts", str(run.package)],
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )
    assert child.returncode == 0, child.stderr
    lines = child.stdout.splitlines()
    assert lines == [
        "checkpoint folder: refused",
        "new file: refused",
        "edit report: refused",
        "replace results: refused",
        "delete notebook: refused",
        "rename manifest: refused",
        "file in audit/: refused",
        "read report: done",  # the owner can still read everything
    ]
    assert not (run.package / ".ipynb_checkpoints").exists()
    assert verify_package(run.package).ok


def test_force_replaces_a_read_only_package(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    first = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    second = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, force=True)
    assert second.ok and verify_package(second.package).ok
    assert second.manifest["package_id"] != first.manifest["package_id"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pkg.")]  # no leftovers


@pytest.mark.req("REQ-PKG-010")
def test_signing_adds_read_only_signatures_and_leaves_the_package_read_only(
    tmp_path: Path, store
) -> None:
    from cmlops.reports.signing import sign_package
    from cmlops.trust.admin import generate_keys

    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    run = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    key = generate_keys(
        "tester", "pass phrase 1", name="Tess Ter", path=tmp_path / "k.json", store=store
    )
    sign_package(
        run.package,
        meaning="authored",
        name="Tess Ter",
        passphrase="pass phrase 1",
        key_path=key.path,
        store=store,
    )
    modes = _modes(run.package)
    assert "signatures.json" in modes and "signatures.html" in modes
    assert {name: oct(mode) for name, mode in modes.items() if mode & 0o222} == {}
    assert verify_package(run.package).ok
    assert verify_package(run.zip).ok
