"""``verify_package``: recompute everything a package claims, offline.

Checks, in order: the manifest parses and conforms to its schema; every file
listed has its recorded SHA-256 and size (modified / removed files named);
no file was added; the audit extract's records are proven in the chain's
Merkle tree and say what the package says (:mod:`cmlops.reports.audit_check`);
every signature is judged against the key registry and signing policy of the
chain (:mod:`cmlops.reports.signatures`), and ``signatures.html`` still shows
exactly the signatures in ``signatures.json``. Nothing needs the original store
or a network; given a kept checkpoint or the store, the package is also checked
against them (with the store: the package's Merkle root must be the store's root
of the same size, so a package whose trail was rewritten, or a store rewritten or
truncated below the package since the run, fails). A zip is safely extracted to
a temporary folder first.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from cmlops.reports.archival import archival_problems
from cmlops.reports.audit_check import check_audit, checkpoint_problems, store_problems
from cmlops.reports.manifest import (
    UNLISTED,
    read_manifest,
    sha256_file,
    validate_manifest,
)
from cmlops.reports.package import opened_package
from cmlops.reports.signatures import check_signatures


@dataclass
class PackageVerification:
    """The outcome of verifying one package; ``ok`` only if nothing at all is wrong."""

    path: str
    package_id: str = ""
    status: str = ""
    manifest_sha256: str = ""
    files_checked: int = 0
    modified: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.modified or self.added or self.removed or self.problems)

    def lines(self) -> list[str]:
        """One line per finding, for the CLI and for audit records."""
        out = [f"modified: {p}" for p in self.modified]
        out += [f"added: {p}" for p in self.added]
        out += [f"removed: {p}" for p in self.removed]
        out += list(self.problems)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "package_id": self.package_id,
            "status": self.status,
            "manifest_sha256": self.manifest_sha256,
            "files_checked": self.files_checked,
            "modified": self.modified,
            "added": self.added,
            "removed": self.removed,
            "problems": self.problems,
            "signatures": self.signatures,
            "notes": self.notes,
        }


def _kind(mode: int) -> str:
    """What a directory entry is, in words a reviewer reads."""
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def package_entries(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (POSIX relative path -> kind), links never followed."""
    entries: dict[str, str] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder)
        for name in [*dirs, *files]:
            path = base / name
            entries[path.relative_to(root).as_posix()] = _kind(path.lstat().st_mode)
    return entries


def _check_files(root: Path, manifest: dict[str, Any], out: PackageVerification) -> None:
    """Every listed file has its size and SHA-256; every other entry is reported as added.

    Entries are classified with ``lstat`` before anything is opened, so a FIFO
    or device put in place of a listed file is reported, never read (reading
    would block), and directories, links and special files that were added are
    named like added files (``.ipynb_checkpoints/`` included).
    """
    listed = {entry["path"]: entry for entry in manifest.get("files", [])}
    entries = package_entries(root)
    expected_dirs = {
        parent.as_posix() for rel in listed for parent in PurePosixPath(rel).parents
    } - {"."}
    for rel, entry in sorted(listed.items()):
        kind = entries.get(rel)
        if kind is None:
            out.removed.append(rel)
            continue
        if kind != "file":
            out.modified.append(f"{rel} (now a {kind})")
            continue
        out.files_checked += 1
        path = root / rel
        if path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
            out.modified.append(rel)
    for rel, kind in sorted(entries.items()):
        if rel in listed or (kind == "directory" and rel in expected_dirs):
            continue
        if rel in UNLISTED and kind == "file":
            continue
        out.added.append(rel if kind == "file" else f"{rel} ({kind})")


def _check_consistency(root: Path, manifest: dict[str, Any], out: PackageVerification) -> None:
    """The manifest's claims about the template, plan and results match the files."""
    from cmlops.store.chain import recanonical_json

    checks = []
    template = root / manifest["template"].get("file", "template.ipynb")
    if template.is_file():
        checks.append(("template", sha256_file(template) == manifest["template"]["sha256"]))
    plan = root / manifest["plan"].get("file", "plan.json")
    if plan.is_file():
        try:
            digest = hashlib.sha256(recanonical_json(json.loads(plan.read_bytes()))).hexdigest()
        except ValueError:
            digest = ""
        checks.append(("plan", digest == manifest["plan"]["sha256"]))
    results = root / "results.json"
    if results.is_file():
        try:
            recorded = json.loads(results.read_text("utf-8"))
            same = all(
                recorded.get(k) == manifest["results"].get(k) for k in ("verdict", "criteria")
            )
        except ValueError:
            same = False
        checks.append(("results", same))
    out.problems.extend(f"manifest does not match {name}" for name, ok in checks if not ok)


def _check_against_store(store: Any, manifest: dict[str, Any], out: PackageVerification) -> None:
    """The package's chain must be the store's chain (its Merkle root of the same size).

    Packages made before per-run proofs carry a chain segment instead, which the
    store cannot be compared with by root: a note says so.
    """
    if "proofs" in manifest.get("audit", {}):
        out.problems.extend(store_problems(store, manifest))
    else:
        out.notes.append("audit trail: an older package without Merkle proofs, not compared")


def verify_folder(
    root: Path, *, label: str | None = None, checkpoint: Any = None, store: Any = None
) -> PackageVerification:
    """Verify an unpacked package folder (also against a kept ``checkpoint`` or the ``store``)."""
    manifest, raw = read_manifest(root)
    out = PackageVerification(path=label or str(root))
    out.manifest_sha256 = hashlib.sha256(raw).hexdigest()
    out.package_id = str(manifest.get("package_id", ""))
    out.status = str(manifest.get("status", ""))
    schema_errors = validate_manifest(manifest)
    if schema_errors:
        out.problems.extend(f"manifest: {err}" for err in schema_errors[:10])
        return out
    _check_files(root, manifest, out)
    _check_consistency(root, manifest, out)
    out.problems.extend(archival_problems(root, manifest))  # the PDF embeds this manifest
    out.problems.extend(check_audit(root, manifest))
    if checkpoint is not None:
        problems, notes = checkpoint_problems(root, manifest, out.manifest_sha256, checkpoint)
        out.problems.extend(problems)
        out.notes.extend(notes)
    if store is not None:
        _check_against_store(store, manifest, out)
    checked = check_signatures(
        root, manifest, out.manifest_sha256, store=store, checkpoint=checkpoint
    )
    out.signatures = checked.signatures
    out.problems.extend(checked.problems)
    out.notes.extend(checked.notes)
    return out


def verify_package(
    path: str | Path, *, checkpoint: Any = None, store: Any = None
) -> PackageVerification:
    """Verify a package folder or its ``.zip`` offline; see the module docstring.

    ``checkpoint``: a :class:`cmlops.trust.checkpoint.Checkpoint` the verifier kept;
    ``store``: the store, to cross-check the signatures' evidence against it.
    """
    path = Path(path)
    with opened_package(path) as root:
        return verify_folder(root, label=str(path), checkpoint=checkpoint, store=store)
