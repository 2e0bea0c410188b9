"""Impact assessment of a new version: new vs previous on the same validation data.

The comparison itself is the ``model_impact`` template (``cmlops.compare``: the
paired DeLong test of the AUROC difference, calibration and Brier differences,
per subgroup), so the assessment is an audit package like any report. This
module checks what a reviewer would ask first — both scores on one file that
descends from *both* versions' models in the lineage — runs it with the
protocol's sensitive attributes as subgroups, and records the result against
the version (``model.impact.recorded``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmlops.lifecycle.errors import RegistryError
from cmlops.lifecycle.packages import descends_from
from cmlops.lifecycle.registry import model_state


def _checked_pair(
    store: Any, state: Any, version: int, previous: int | None, path: Path
) -> tuple[Any, Any, str]:
    """The new and previous versions and the data's SHA-256, once the lineage links both."""
    from cmlops.reports.manifest import sha256_file

    new = state.version(version)
    earlier = sorted(v for v in state.versions if v < version)
    if previous is None and not earlier:
        raise RegistryError(f"{state.name} v{version} has no earlier version to compare with")
    old = state.version(previous if previous is not None else earlier[-1])
    if not path.is_file():
        raise RegistryError(f"no validation data at {path}")
    digest = sha256_file(path)
    for label, v in (("new", new), ("previous", old)):
        if not descends_from(store, digest, v.entity_id):
            raise RegistryError(
                f"{path.name} does not descend from the {label} version's model (v{v.version}) "
                "in the lineage: score the same data with both versions in a tracked cell"
            )
    return new, old, digest


def _payload(run: Any, version: int, previous: int, digest: str) -> dict[str, Any]:
    metrics = run.manifest.get("results", {}).get("metrics", {})
    return {
        "version": version,
        "previous_version": previous,
        "package_id": run.manifest["package_id"],
        "path": str(run.package),
        "status": run.status,
        "verdict": run.manifest.get("results", {}).get("verdict"),
        "data_sha256": digest,
        "auroc_difference": metrics.get("auroc_difference"),
        "auroc_difference_ci": [
            metrics.get("auroc_difference_ci_low"),
            metrics.get("auroc_difference_ci_high"),
        ],
        "auroc_difference_p_value": metrics.get("auroc_difference_p_value"),
    }


def assess_impact(
    store: Any,
    name: str,
    version: int,
    data: str | Path,
    *,
    score_new: str,
    score_previous: str,
    outcome: str = "outcome",
    previous: int | None = None,
    subgroups: list[str] | None = None,
    threshold: float = 0.5,
    plan: str | Path | None = None,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Run and record the impact assessment of ``name`` v``version``; returns the record."""
    from cmlops.reports.runner import run_report

    state = model_state(store, name)
    path = Path(data)
    new, old, digest = _checked_pair(store, state, version, previous, path)
    protocol = (state.protocol or {}).get("protocol") or {}
    groups = subgroups if subgroups is not None else list(protocol.get("sensitive_attributes", []))
    parameters = {
        "data": str(path.resolve()),
        "outcome": outcome,
        "score_new": score_new,
        "score_previous": score_previous,
        "new_name": f"{name} v{new.version}",
        "previous_name": f"{name} v{old.version}",
        "subgroups": groups,
        "threshold": threshold,
    }
    run = run_report("model_impact", parameters, plan=plan, out=out, store=store, progress=False)
    payload = _payload(run, new.version, old.version, digest)
    reason = f"impact of v{new.version} against v{old.version}"
    store.append("model.impact.recorded", "model", name, payload, reason=reason)
    return payload
