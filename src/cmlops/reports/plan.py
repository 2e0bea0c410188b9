"""Pre-specified acceptance plans: load, hash, record before execution, judge results.

A plan is a YAML or JSON file the user writes *before* the run::

    plan_id: flchain-mortality-v1
    criteria:
      - {id: discrimination, metric: auroc, op: ">=", threshold: 0.70}
      - {id: auroc-women, metric: auroc, subgroup: "sex=F", op: ">=", threshold: 0.65}

Its identity is the SHA-256 of its RFC 8785 canonical JSON (so re-indenting the
YAML does not change it). ``record_plan`` writes it to the audit log before the
kernel starts. When a plan with the same ``plan_id`` was recorded earlier with
another hash, the change is recorded as a ``plan.deviation`` — a plan is never
edited silently.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.reports.errors import PlanError
from cmlops.store.chain import canonical_json

OPS = {
    ">=": lambda v, t: v >= t,
    ">": lambda v, t: v > t,
    "<=": lambda v, t: v <= t,
    "<": lambda v, t: v < t,
    "==": lambda v, t: v == t,
}


@dataclass
class RecordedPlan:
    """A plan as recorded in the audit log for one run."""

    plan: dict[str, Any]
    sha256: str
    source: str
    raw_sha256: str = ""
    recorded_at: str = ""
    audit_seq: int | None = None
    deviations: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan.get("plan_id", ""),
            "source": self.source,
            "sha256": self.sha256,
            "raw_sha256": self.raw_sha256,
            "recorded_at": self.recorded_at,
            "audit_seq": self.audit_seq,
            "deviations": self.deviations,
            "file": "plan.json",
        }


def check_plan(plan: Any, where: str) -> dict[str, Any]:
    """Refuse a plan that a reviewer could not judge unambiguously."""
    if not isinstance(plan, dict):
        raise PlanError(f"{where}: a plan is a mapping with plan_id and criteria")
    criteria = plan.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise PlanError(f"{where}: the plan needs a non-empty 'criteria' list")
    seen: set[str] = set()
    for i, crit in enumerate(criteria):
        if not isinstance(crit, dict):
            raise PlanError(f"{where}: criterion {i + 1} is not a mapping")
        for key in ("id", "metric", "op", "threshold"):
            if key not in crit:
                raise PlanError(f"{where}: criterion {i + 1} lacks {key!r}")
        if crit["op"] not in OPS:
            raise PlanError(f"{where}: criterion {crit['id']!r} has unknown op {crit['op']!r}")
        threshold = crit["threshold"]
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise PlanError(f"{where}: criterion {crit['id']!r} needs a numeric threshold")
        if crit["id"] in seen:
            raise PlanError(f"{where}: criterion id {crit['id']!r} is used twice")
        seen.add(crit["id"])
    plan.setdefault("plan_id", "")
    return plan


def load_plan(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Read a YAML or JSON plan file; returns the checked plan and its raw bytes."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanError(f"cannot read plan {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".json":
            plan = json.loads(raw)
        else:
            import yaml

            plan = yaml.safe_load(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PlanError(f"plan {path} is not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError has no common base we import
        raise PlanError(f"plan {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return check_plan(plan, str(path)), raw


def prepare_plan(path: str | Path | None, default: dict[str, Any] | None) -> RecordedPlan:
    """The plan of a run: the user's file, else the template's default criteria."""
    if path is None:
        if not default:
            raise PlanError("this template has no default plan: pass --plan FILE")
        plan = check_plan(json.loads(json.dumps(default)), "template default plan")
        return RecordedPlan(
            plan=plan,
            sha256=hashlib.sha256(canonical_json(plan)).hexdigest(),
            source="template-default",
        )
    plan, raw = load_plan(path)
    return RecordedPlan(
        plan=plan,
        sha256=hashlib.sha256(canonical_json(plan)).hexdigest(),
        source=str(Path(path).resolve()),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
    )


def record_plan(store: Any, recorded: RecordedPlan, *, run_id: str, reason: str = "") -> None:
    """Write the plan (and any deviation from its previous version) to the audit log."""
    plan_id = recorded.plan.get("plan_id") or f"sha256:{recorded.sha256}"
    previous = store.records(
        action="plan.recorded", object_type="plan", object_id=plan_id, newest_first=True, limit=1
    )
    if previous:
        before = previous[0].payload_dict().get("sha256")
        if before != recorded.sha256:
            record = store.append(
                "plan.deviation",
                "plan",
                plan_id,
                {
                    "previous_sha256": before,
                    "sha256": recorded.sha256,
                    "run_id": run_id,
                    "previous_seq": previous[0].seq,
                },
                reason=reason or "plan changed after an earlier run",
            )
            recorded.deviations.append(
                {
                    "previous_sha256": before,
                    "sha256": recorded.sha256,
                    "audit_seq": record.seq,
                    "reason": record.reason,
                }
            )
    record = store.append(
        "plan.recorded",
        "plan",
        plan_id,
        {
            "sha256": recorded.sha256,
            "raw_sha256": recorded.raw_sha256,
            "source": recorded.source,
            "run_id": run_id,
            "plan": recorded.plan,
        },
        reason=reason,
    )
    recorded.recorded_at = record.ts
    recorded.audit_seq = record.seq


def judge(metrics: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Each criterion with the observed value and PASS / FAIL / NOT EVALUATED.

    A metric is looked up as ``metric`` or, for a subgroup, ``metric[subgroup]``
    (e.g. ``auroc[sex=F]``). A missing or non-finite value never passes.
    """
    rows = []
    for crit in plan["criteria"]:
        key = crit["metric"] + (f"[{crit['subgroup']}]" if crit.get("subgroup") else "")
        value = metrics.get(key)
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            outcome, value = "NOT EVALUATED", None
        else:
            outcome = "PASS" if OPS[crit["op"]](value, crit["threshold"]) else "FAIL"
        rows.append(
            {
                "id": crit["id"],
                "metric": crit["metric"],
                "subgroup": crit.get("subgroup") or "",
                "op": crit["op"],
                "threshold": crit["threshold"],
                "value": None if value is None else float(value),
                "outcome": outcome,
                "passed": outcome == "PASS",
                "description": crit.get("description", ""),
            }
        )
    return rows
