"""Reading evidence for documents: metrics, answers, subgroups, references — as text."""

from __future__ import annotations

import math
import re
from typing import Any

NOT_STATED = "Not stated"


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def validation(evidence: dict[str, Any]) -> dict[str, Any]:
    return evidence.get("validation") or {}


def metrics(evidence: dict[str, Any]) -> dict[str, Any]:
    return (validation(evidence).get("results") or {}).get("metrics") or {}


def parameters(evidence: dict[str, Any]) -> dict[str, Any]:
    return validation(evidence).get("parameters") or {}


def answer(evidence: dict[str, Any], section: str, key: str) -> str:
    value = ((evidence.get("answers") or {}).get(section) or {}).get(key)
    return str(value).strip() if value not in (None, "") else ""


def protocol(evidence: dict[str, Any]) -> dict[str, Any]:
    return (evidence.get("protocol") or {}).get("protocol") or {}


def version(evidence: dict[str, Any]) -> dict[str, Any]:
    return evidence.get("version") or {}


def facts(evidence: dict[str, Any]) -> dict[str, Any]:
    return version(evidence).get("facts") or {}


def with_ci(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    low, high = values.get(f"{key}_ci_low"), values.get(f"{key}_ci_high")
    if value is None:
        return "—"
    return fmt(value) + (f" (95% CI {fmt(low)}–{fmt(high)})" if low is not None else "")


_SUB = re.compile(r"^(?P<metric>[a-z_]+)\[(?P<group>[^\]=]+)=(?P<level>[^\]]*)\]$")


def subgroup_rows(evidence: dict[str, Any], metric: str = "auroc") -> list[tuple[str, str, str]]:
    """(attribute, level, value with CI) for every subgroup value of ``metric``."""
    values = metrics(evidence)
    rows = []
    for key in sorted(values):
        match = _SUB.match(key)
        if match and match["metric"] == metric:
            rows.append((match["group"], match["level"], with_ci(values, key)))
    return rows


def value_json(values: dict[str, Any], key: str) -> str:
    """CHAI's ValueJson: an estimate with its interval when there is one."""
    import json

    value = values.get(key)
    low, high = values.get(f"{key}_ci_low"), values.get(f"{key}_ci_high")
    if value is not None and low is not None and high is not None:
        doc = {"kind": "estimate_ci", "estimate": value, "lower": low, "upper": high, "level": 95}
    else:
        doc = {"kind": "single", "value": value}
    return json.dumps(doc, sort_keys=True, allow_nan=False)


def training_text(evidence: dict[str, Any]) -> str:
    parts = []
    for data in facts(evidence).get("training_data") or []:
        missing = ", ".join(f"{k}: {v}" for k, v in (data.get("missing") or {}).items())
        parts.append(
            f"{data.get('name')} ({data.get('entity_id')}): {fmt(data.get('rows'))} rows, "
            f"{len(data.get('columns') or [])} columns"
            + (f"; missing values — {missing}" if missing else "; no missing values recorded")
        )
    return "\n\n".join(parts)


def package_ref(evidence: dict[str, Any]) -> list[str]:
    pkg = validation(evidence)
    return [f"package {pkg['package_id']}"] if pkg.get("package_id") else []


def criteria_text(evidence: dict[str, Any]) -> str:
    rows = (validation(evidence).get("results") or {}).get("criteria") or []
    return "; ".join(
        f"{c.get('id')}: {c.get('metric')}{'[' + c['subgroup'] + ']' if c.get('subgroup') else ''} "
        f"{c.get('op')} {c.get('threshold')} → {fmt(c.get('value'))} {c.get('outcome')}"
        for c in rows
    )
