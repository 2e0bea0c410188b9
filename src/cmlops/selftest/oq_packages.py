"""OQ: package verification catches edits, on a sample package built by the installed copy.

The shipped example data is run through the ``data_validation`` template into a
real audit package (a real kernel, a throwaway store). Copies of it are then
edited the ways a package can be edited — a changed byte, a removed file, an
added file, results changed with the manifest re-hashed to match, an audit
record changed — and each copy must fail ``verify`` with that edit named. The
intact package must verify.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
from pathlib import Path
from typing import Any

from cmlops.selftest.checks import Check


def sample_package(work: Path, store: Any) -> Any:
    """A real report run of the example data into ``work/sample`` (recorded in ``store``)."""
    from cmlops.reports.runner import run_report
    from cmlops.selftest.example import example_dir

    data = example_dir()
    return run_report(
        "data_validation",
        {"data": str(data / "data.csv"), "reference": str(data / "reference.csv")},
        out=work / "sample",
        store=store,
        progress=False,
    )


def forgers_copy(package: Path, target: Path) -> Path:
    """A copy of a read-only package that its owner (the forger) can edit."""
    shutil.copytree(package, target)
    for path in (target, *target.rglob("*")):
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)
    return target


def rehash_manifest(package: Path, changed: str) -> None:
    """Re-hash ``changed`` in the manifest, as a forger covering an edit would."""
    manifest_path = package / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    for entry in manifest["files"]:
        if entry["path"] == changed:
            entry["sha256"] = hashlib.sha256((package / changed).read_bytes()).hexdigest()
            entry["size"] = (package / changed).stat().st_size
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")


def flip_verdict(package: Path) -> str:
    """Change the verdict in results.json and the manifest, then re-hash: the new verdict."""
    results_path = package / "results.json"
    results = json.loads(results_path.read_text("utf-8"))
    forged = "FAIL" if results["verdict"] == "PASS" else "PASS"
    results["verdict"] = forged
    results_path.write_text(json.dumps(results, indent=2, sort_keys=True), "utf-8")
    manifest_path = package / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["results"]["verdict"] = forged
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    rehash_manifest(package, "results.json")
    return forged


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_trail(package: Path) -> None:
    trail = package / "audit" / "trail.jsonl"
    lines = trail.read_text("utf-8").splitlines()
    record = json.loads(lines[-1])
    record["actor"] = "mallory"
    lines[-1] = json.dumps(record, sort_keys=True)
    trail.write_text("\n".join(lines) + "\n", "utf-8")
    rehash_manifest(package, "audit/trail.jsonl")


#: edit -> (what is done to a copy, requirement, words a finding must hold)
EDITS: dict[str, tuple[Any, str, str]] = {
    "a changed byte in report.html": (
        lambda p: _flip_byte(p / "report.html"),
        "REQ-PKG-002",
        "modified: report.html",
    ),
    "a removed notebook.ipynb": (
        lambda p: (p / "notebook.ipynb").unlink(),
        "REQ-PKG-002",
        "removed: notebook.ipynb",
    ),
    "an added file": (
        lambda p: (p / "extra.csv").write_text("x\n1\n"),
        "REQ-PKG-002",
        "added: extra.csv",
    ),
    "the verdict edited with the manifest re-hashed": (flip_verdict, "REQ-PKG-003", ""),
    "an audit record edited with the manifest re-hashed": (_edit_trail, "REQ-PKG-003", ""),
}


def package_checks(work: Path, run: Any) -> list[Check]:
    """The intact sample must verify; each edited copy must fail with its edit named."""
    from cmlops.reports.verify import verify_package

    intact = verify_package(run.package)
    checks = [
        Check(
            "OQ-PKG-01",
            "OQ",
            "a report run yields a complete package that verifies",
            ("REQ-PKG-001",),
            run.status == "EXECUTED" and intact.ok and intact.files_checked >= 8,
            "status EXECUTED; verify passes on every listed file",
            f"status {run.status}; verify {'passed' if intact.ok else 'FAILED'} "
            f"({intact.files_checked} files)" + ("" if intact.ok else f": {intact.lines()[:3]}"),
        )
    ]
    for n, (name, (edit, requirement, words)) in enumerate(EDITS.items(), start=2):
        copy = forgers_copy(run.package, work / f"edited-{n}")
        edit(copy)
        result = verify_package(copy)
        found = result.lines()
        caught = not result.ok and (not words or words in found)
        checks.append(
            Check(
                f"OQ-PKG-{n:02d}",
                "OQ",
                f"package verify catches {name}",
                (requirement,),
                caught,
                f"verify fails{' naming ' + repr(words) if words else ''}",
                "verify passed" if result.ok else "verify failed: " + "; ".join(found[:3]),
            )
        )
    return checks
