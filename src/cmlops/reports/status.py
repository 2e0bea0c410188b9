"""A package's life-cycle status: executed → reviewed → approved → superseded (or FAILED).

Status is never written into the package (that would change signed bytes):
it is derived from the manifest, the valid signatures and the audit log's
``package.superseded`` records, so everyone computes the same status from the
same evidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.reports.errors import PackageError
from cmlops.reports.manifest import read_manifest
from cmlops.reports.package import opened_package
from cmlops.reports.signing import package_status
from cmlops.reports.verify import verify_folder


def _superseded_by(store: Any, package_id: str) -> str | None:
    if store is None:
        return None
    found = store.records(
        action="package.superseded",
        object_type="package",
        object_id=package_id,
        newest_first=True,
        limit=1,
    )
    return found[0].payload_dict().get("superseded_by") if found else None


def package_state(path: str | Path, *, store: Any = None) -> dict[str, Any]:
    """Status, template and valid signatures of a package (folder or zip)."""
    with opened_package(Path(path)) as root:
        manifest, _raw = read_manifest(root)
        result = verify_folder(root, label=str(path))
    valid = [s for s in result.signatures if s["valid"]]
    superseded = _superseded_by(store, result.package_id)
    return {
        "package_id": result.package_id,
        "template": manifest.get("template", {}).get("name", ""),
        "status": package_status(manifest, valid, superseded),
        "verified": result.ok,
        "signatures": valid,
        "superseded_by": superseded,
    }


def supersede(old: str | Path, new: str | Path, *, store: Any, reason: str = "") -> None:
    """Record in the audit log that package ``new`` supersedes package ``old``."""
    with opened_package(Path(old)) as root:
        old_manifest, _ = read_manifest(root)
    with opened_package(Path(new)) as root:
        new_manifest, _ = read_manifest(root)
    if old_manifest["package_id"] == new_manifest["package_id"]:
        raise PackageError("a package cannot supersede itself")
    store.append(
        "package.superseded",
        "package",
        old_manifest["package_id"],
        {"superseded_by": new_manifest["package_id"], "path": str(new)},
        reason=reason or "superseded by a newer package",
    )
