"""``reproduce_package``: re-run a package from its recorded inputs and compare results.

Reproduction checks three things: (1) every input file still has its recorded
SHA-256 (otherwise it stops and names the changed inputs — re-running on other
data proves nothing); (2) the template copy inside the package is re-executed
with the recorded parameters and the recorded plan; (3) the new results are
compared with the recorded ones: verdict and each criterion's outcome exactly,
numbers with ``math.isclose(rel_tol, abs_tol)`` (defaults 1e-9 and 1e-12 —
enough for floating-point reordering on another machine, far below any
clinically meaningful difference), strings exactly.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.reports.catalogue import load_template
from cmlops.reports.data_inputs import entry_changed
from cmlops.reports.manifest import read_manifest
from cmlops.reports.package import opened_package


@dataclass
class Reproduction:
    """Outcome: ``reproducible`` or the list of differences."""

    reproducible: bool
    compared: int = 0
    differences: list[str] = field(default_factory=list)
    package: str = ""


def _compare(old: Any, new: Any, where: str, rel: float, absol: float, out: list[str]) -> int:
    if isinstance(old, dict) and isinstance(new, dict):
        count = 0
        for key in sorted(set(old) | set(new)):
            if key not in new:
                out.append(f"{where}.{key}: missing in the re-run")
            elif key not in old:
                out.append(f"{where}.{key}: new in the re-run")
            else:
                count += _compare(old[key], new[key], f"{where}.{key}", rel, absol, out)
        return count
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            out.append(f"{where}: {len(old)} items recorded, {len(new)} re-computed")
            return 1
        return sum(
            _compare(a, b, f"{where}[{i}]", rel, absol, out)
            for i, (a, b) in enumerate(zip(old, new, strict=True))
        )
    numeric = (int, float)
    if (
        isinstance(old, numeric)
        and isinstance(new, numeric)
        and not isinstance(old, bool)
        and not isinstance(new, bool)
    ):
        if not math.isclose(old, new, rel_tol=rel, abs_tol=absol):
            out.append(f"{where}: recorded {old!r}, re-computed {new!r}")
        return 1
    if old != new:
        out.append(f"{where}: recorded {old!r}, re-computed {new!r}")
    return 1


def reproduce_package(
    path: str | Path,
    *,
    out: str | Path | None = None,
    store: Any = None,
    rel_tol: float = 1e-9,
    abs_tol: float = 1e-12,
    progress: bool = False,
    kernel_name: str | None = None,
) -> Reproduction:
    """Re-execute the package's template with its recorded parameters; compare results."""
    from cmlops.reports.runner import run_report

    with opened_package(Path(path)) as root:
        manifest, _ = read_manifest(root)
        changed = [
            f"input {i['parameter']} ({i['path']}): {why}"
            for i in manifest["inputs"]
            if (why := entry_changed(i)) is not None
        ]
        if changed:
            return Reproduction(reproducible=False, differences=changed)
        work = Path(tempfile.mkdtemp(prefix="cmlops-reproduce-"))
        template_copy = work / "template.ipynb"
        template_copy.write_bytes((root / manifest["template"]["file"]).read_bytes())
        plan_copy = work / "plan.json"
        plan_copy.write_bytes((root / "plan.json").read_bytes())
    tpl = load_template(template_copy, manifest["template"]["name"])
    if tpl.sha256 != manifest["template"]["sha256"]:
        return Reproduction(
            reproducible=False, differences=["template copy does not match its recorded hash"]
        )
    target = Path(out) if out else work / "package"
    run = run_report(
        tpl,
        manifest["parameters"],
        plan=plan_copy,
        out=target,
        store=store,
        progress=progress,
        kernel_name=kernel_name,
        deviation_reason=f"reproduction of package {manifest['package_id']}",
    )
    differences: list[str] = []
    if run.status != manifest["status"]:
        differences.append(f"status: recorded {manifest['status']}, re-run {run.status}")
    compared = _compare(
        manifest["results"], run.manifest["results"], "results", rel_tol, abs_tol, differences
    )
    return Reproduction(
        reproducible=not differences,
        compared=compared,
        differences=differences,
        package=str(run.package),
    )
