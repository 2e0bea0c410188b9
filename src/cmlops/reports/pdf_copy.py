"""``cmlops package pdf``: add the archival PDF/A-3b to an existing, unsigned package.

The package must verify first and carry no signature (a signature signs the
manifest digest, which listing the PDF changes: make the PDF before signing).
The PDF embeds the package's manifest as it is (see :mod:`cmlops.reports.archival`);
the manifest is rewritten to list ``report.pdf`` and the ``archival`` entry,
the zip is re-written, and ``package.archived`` records the manifest digest
before and after and the PDF's digest in the audit trail — so a checkpoint made
later vouches for the new manifest, and the change is never silent.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.reports.archival import PDF, with_archival
from cmlops.reports.errors import PackageError
from cmlops.reports.manifest import MANIFEST, dumps, read_manifest, sha256_file
from cmlops.reports.package import is_signed, writable_folder, zip_package
from cmlops.reports.verify import verify_folder

ARCHIVED = "package.archived"


def add_pdf(path: str | Path, *, store: Any) -> Path:
    """Write ``report.pdf`` into the package folder ``path``; returns the PDF's path."""
    root = Path(path)
    if not root.is_dir() or root.is_symlink():
        raise PackageError(f"give the package folder, not {root}: unzip it first")
    if is_signed(root):
        raise PackageError(
            f"{root} is signed: adding a PDF changes the manifest every signature signs; "
            "make the PDF before signing (cmlops report run --pdf, or package pdf, then sign)"
        )
    result = verify_folder(root)
    if not result.ok:
        raise PackageError(f"the package fails verification ({result.lines()[0]}): no PDF made")
    manifest, raw = read_manifest(root)
    if manifest.get("archival"):
        raise PackageError(f"{root} already has its archival PDF ({manifest['archival']['file']})")
    if dumps(manifest) != raw:
        raise PackageError(f"{root / MANIFEST} is not in the form cmlops writes: no PDF made")
    with tempfile.TemporaryDirectory(prefix="cmlops-pdf-") as work:
        scratch = Path(work)
        shutil.copyfile(root / "report.html", scratch / "report.html")
        updated = with_archival(scratch, manifest)  # slow part, outside the package
        with writable_folder(root):  # the package stays read-only around these two files
            write_atomic(root / PDF, (scratch / PDF).read_bytes(), replace=False, read_only=True)
            write_atomic(root / MANIFEST, dumps(updated), read_only=True)
    zip_package(root)
    store.append(
        ARCHIVED,
        "package",
        str(manifest["package_id"]),
        {
            "file": PDF,
            "pdf_sha256": sha256_file(root / PDF),
            "manifest_sha256_before": result.manifest_sha256,
            "manifest_sha256": sha256_file(root / MANIFEST),
            "format": "PDF/A-3b",
        },
        reason="archival PDF added to the package",
    )
    return root / PDF


def describe(path: Path) -> str:
    """One line for the CLI: where the PDF is and what it embeds."""
    manifest = json.loads((path.parent / MANIFEST).read_text("utf-8"))
    digest = manifest["archival"]["embedded_manifest_sha256"]
    return f"{path} (PDF/A-3b; embeds the manifest before the PDF, SHA-256 {digest})"
