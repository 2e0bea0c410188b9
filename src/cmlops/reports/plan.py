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
import os
import re
import stat
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


#: what a plan may say at its top level and in each criterion (anything else is a typo)
PLAN_KEYS = frozenset({"plan_id", "title", "description", "criteria", "if_not_evaluable"})
CRITERION_KEYS = frozenset({"id", "metric", "subgroup", "op", "threshold", "description"})
#: ``if_not_evaluable``: the verdict when a criterion cannot be evaluated and none failed
IF_NOT_EVALUABLE = {"not_evaluated": "NOT EVALUATED", "fail": "FAIL"}
#: thresholds beyond this magnitude are refused (I-JSON: integers exact up to 2**53)
MAX_THRESHOLD = 2.0**53
MAX_PLAN_BYTES = 1024 * 1024
MAX_CRITERIA = 1000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _text(value: Any, what: str, where: str, *, required: bool = True) -> str:
    """A single-line string (no control characters: a CR would break a report's tables)."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise PlanError(f"{where}: {what} must be a non-empty text, got {_shown(value)}")
    if _CONTROL.search(value):
        raise PlanError(f"{where}: {what} {value!r} contains a line break or control character")
    if len(value) > 500:
        raise PlanError(f"{where}: {what} is longer than 500 characters")
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"


def _threshold(value: Any, crit_id: str, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlanError(
            f"{where}: criterion {crit_id!r} needs a numeric threshold, got {_shown(value)}"
        )
    if not math.isfinite(value) or abs(value) > MAX_THRESHOLD:
        raise PlanError(
            f"{where}: criterion {crit_id!r} has threshold {value!r}: use a finite number "
            f"of magnitude at most 2**53"
        )
    return value


def _unknown(keys: Any, allowed: frozenset[str], what: str, where: str) -> None:
    extra = sorted(str(k) for k in keys if k not in allowed)
    if extra:
        raise PlanError(
            f"{where}: {what} has unknown key {extra[0]!r}; allowed: {', '.join(sorted(allowed))}"
        )


def _check_criterion(crit: Any, i: int, where: str) -> dict[str, Any]:
    if not isinstance(crit, dict):
        raise PlanError(f"{where}: criterion {i + 1} is not a mapping")
    for key in ("id", "metric", "op", "threshold"):
        if key not in crit:
            raise PlanError(f"{where}: criterion {i + 1} lacks {key!r}")
    _unknown(crit, CRITERION_KEYS, f"criterion {i + 1}", where)
    crit_id = _text(crit["id"], "criterion id", where)
    _text(crit["metric"], f"criterion {crit_id!r} metric", where)
    _text(crit.get("subgroup"), f"criterion {crit_id!r} subgroup", where, required=False)
    _text(crit.get("description"), f"criterion {crit_id!r} description", where, required=False)
    if not isinstance(crit["op"], str) or crit["op"] not in OPS:
        raise PlanError(
            f"{where}: criterion {crit_id!r} has unknown op {_shown(crit['op'])}; "
            f"use one of {' '.join(OPS)}"
        )
    _threshold(crit["threshold"], crit_id, where)
    return crit


def check_plan(plan: Any, where: str) -> dict[str, Any]:
    """Refuse a plan that a reviewer could not judge unambiguously.

    Types are checked strictly (a plan is evidence: ``threshold: "0.7"`` or a YAML
    tag is refused, not coerced), texts are single lines, numbers finite and
    I-JSON safe, and unknown keys are refused so a typo never drops a criterion.
    """
    if not isinstance(plan, dict):
        raise PlanError(f"{where}: a plan is a mapping with plan_id and criteria")
    _unknown(plan, PLAN_KEYS, "the plan", where)
    criteria = plan.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise PlanError(f"{where}: the plan needs a non-empty 'criteria' list")
    if len(criteria) > MAX_CRITERIA:
        raise PlanError(f"{where}: {len(criteria)} criteria is more than {MAX_CRITERIA}")
    _text(plan.get("plan_id"), "plan_id", where, required=False)
    _text(plan.get("title"), "title", where, required=False)
    if plan.get("description") is not None and not isinstance(plan["description"], str):
        raise PlanError(f"{where}: description must be text")
    policy = plan.get("if_not_evaluable", "not_evaluated")
    if not isinstance(policy, str) or policy not in IF_NOT_EVALUABLE:
        raise PlanError(
            f"{where}: if_not_evaluable must be one of {', '.join(IF_NOT_EVALUABLE)}, "
            f"got {_shown(policy)}"
        )
    seen: set[str] = set()
    for i, crit in enumerate(criteria):
        _check_criterion(crit, i, where)
        if crit["id"] in seen:
            raise PlanError(f"{where}: criterion id {crit['id']!r} is used twice")
        seen.add(crit["id"])
    plan.setdefault("plan_id", "")
    return plan


def _read_plan_bytes(path: Path) -> bytes:
    """The plan file's bytes: a regular file of bounded size, never a FIFO or device.

    Opened non-blocking and checked with ``fstat`` on the open descriptor, so a
    FIFO (which would block forever) or a file swapped after a check is refused.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise PlanError(f"cannot read plan {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise PlanError(f"plan {path} is {kind}: give a YAML or JSON file")
        if info.st_size > MAX_PLAN_BYTES:
            raise PlanError(f"plan {path} is larger than {MAX_PLAN_BYTES // 1024} KiB")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError(f"cannot read plan {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError(f"plan {path} is larger than {MAX_PLAN_BYTES // 1024} KiB")
    return raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a plan may use")


def _parse(path: Path, raw: bytes) -> Any:
    """JSON strictly (no NaN/Infinity), YAML with the safe loader (tags are refused)."""
    import yaml

    if path.suffix.lower() == ".json":
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(" ".join(str(exc).split())[:200]) from None


def load_plan(path: str | Path) -> tuple[dict[str, Any], bytes]:
    """Read a YAML or JSON plan file; returns the checked plan and its raw bytes."""
    path = Path(path)
    raw = _read_plan_bytes(path)
    return plan_from_bytes(raw, str(path)), raw


def plan_from_bytes(raw: bytes, name: str) -> dict[str, Any]:
    """The checked plan in ``raw``: JSON when ``name`` ends in ``.json``, else YAML.

    ``name`` is what errors call the plan (a path, or an uploaded file's name).
    """
    if len(raw) > MAX_PLAN_BYTES:
        raise PlanError(f"plan {name} is larger than {MAX_PLAN_BYTES // 1024} KiB")
    try:
        plan = _parse(Path(name), raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PlanError(f"plan {name} is not valid YAML/JSON: {first}") from None
    plan = check_plan(plan, name)
    try:
        canonical_json(plan)
    except Exception as exc:  # noqa: BLE001 - rfc8785 raises its own types for odd values
        raise PlanError(f"plan {name} holds a value JSON cannot carry exactly: {exc}") from None
    return plan


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
            if not reason.strip():
                raise PlanError(
                    f"plan {plan_id!r} differs from the version recorded at seq "
                    f"{previous[0].seq} (sha256 {before}): a deviation needs a reason — pass "
                    "--deviation-reason (deviation_reason= in Python); nothing was run"
                )
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
                reason=reason,
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


def metric_key(metric: str, subgroup: str | None = None) -> str:
    """The key a criterion looks up: ``metric`` or ``metric[subgroup]``.

    Interval bounds follow the same rule: ``auroc_ci_low[sex=F]``.
    """
    return metric + (f"[{subgroup}]" if subgroup else "")


def _observed(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def judge(
    metrics: dict[str, Any],
    plan: dict[str, Any],
    not_evaluable: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Each criterion with the observed value and PASS / FAIL / NOT EVALUATED.

    A metric is looked up as ``metric`` or, for a subgroup, ``metric[subgroup]``
    (e.g. ``auroc[sex=F]``). A missing or non-finite value never passes, and
    neither does a value listed in ``not_evaluable`` (key -> reason: too few
    events, a degenerate interval, no columns tested ...): that criterion is NOT
    EVALUATED with the reason, its value kept so the report shows both.
    ``passed`` is True, False, or None when the criterion could not be evaluated.
    """
    reasons = not_evaluable or {}
    rows = []
    for crit in plan["criteria"]:
        key = metric_key(crit["metric"], crit.get("subgroup"))
        value = _observed(metrics.get(key))
        reason = ""
        if value is None:
            reason = "not computed" if key not in metrics else "no finite value"
            reason = reasons.get(key) or reason
        elif reasons.get(key):
            reason = reasons[key]
        if reason:
            outcome, passed = "NOT EVALUATED", None
        else:
            passed = bool(OPS[crit["op"]](value, crit["threshold"]))
            outcome = "PASS" if passed else "FAIL"
        rows.append(
            {
                "id": crit["id"],
                "metric": crit["metric"],
                "subgroup": crit.get("subgroup") or "",
                "op": crit["op"],
                "threshold": crit["threshold"],
                "value": value,
                "outcome": outcome,
                "passed": passed,
                "reason": reason,
                "description": crit.get("description", ""),
            }
        )
    return rows


def plan_verdict(rows: list[dict[str, Any]], plan: dict[str, Any]) -> str:
    """PASS, FAIL or NOT EVALUATED for judged criteria (NONE when there are none).

    Any FAIL fails the plan. Otherwise a criterion that could not be evaluated
    makes the verdict NOT EVALUATED — or FAIL when the plan says
    ``if_not_evaluable: fail``. Never PASS unless every criterion passed.
    """
    if not rows:
        return "NONE"
    outcomes = {row["outcome"] for row in rows}
    if "FAIL" in outcomes:
        return "FAIL"
    if outcomes != {"PASS"}:
        return IF_NOT_EVALUABLE[plan.get("if_not_evaluable", "not_evaluated")]
    return "PASS"
