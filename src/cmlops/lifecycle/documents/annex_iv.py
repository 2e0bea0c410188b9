"""EU AI Act Annex IV technical documentation: a skeleton filled from the lineage.

Points the evidence graph can fill are filled and cite their evidence; points
that need a human (risk management system, standards applied, declaration of
conformity ...) are marked ``manual`` and listed as missing until the
``annex_iv`` answers give them.
"""

from __future__ import annotations

from typing import Any

from cmlops.lifecycle.documents import evidence_text as ev
from cmlops.lifecycle.documents.base import Document, Section

#: (id, title, mode)
POINTS = (
    ("1a", "Intended purpose, provider, version", "automatic"),
    ("1b", "Interaction with hardware or software not part of the system", "manual"),
    ("1c", "Versions of relevant software, update requirements", "automatic"),
    ("1d", "Forms in which the system is placed on the market", "manual"),
    ("1e", "Hardware on which it runs", "manual"),
    ("1g", "User interface and instructions for use", "manual"),
    ("2a", "Development methods and steps, pre-trained systems used", "automatic"),
    ("2b", "Design specifications, general logic, key choices", "partial"),
    ("2d", "Data requirements: datasheets, provenance, scope, characteristics", "automatic"),
    ("2e", "Human oversight measures", "manual"),
    ("2f", "Pre-determined changes and continuous compliance", "automatic"),
    ("2g", "Validation and testing: data, metrics, logs, signed reports", "automatic"),
    ("2h", "Cybersecurity measures", "manual"),
    ("3", "Monitoring, functioning and control; accuracy for groups", "partial"),
    ("4", "Appropriateness of the performance metrics", "partial"),
    ("5", "Risk management system (Article 9)", "manual"),
    ("6", "Relevant changes made through the life cycle", "automatic"),
    ("7", "Harmonised standards or specifications applied", "manual"),
    ("8", "EU declaration of conformity (Article 47)", "manual"),
    ("9", "Post-market monitoring plan (Article 72)", "partial"),
)


def _auto(e: dict[str, Any]) -> dict[str, str]:
    model, version, protocol, facts = (
        e.get("model") or {},
        ev.version(e),
        ev.protocol(e),
        ev.facts(e),
    )
    versions = model.get("versions") or []
    history = "; ".join(
        f"v{v['version']} {v['status']} (change {v.get('change', {}).get('scope')}, registered "
        f"{v.get('registered', {}).get('ts')})"
        for v in versions
    )
    environments = ", ".join(facts.get("environments") or [])
    return {
        "1a": " ".join(
            x
            for x in (
                model.get("name", ""),
                f"v{version.get('version')}",
                protocol.get("intended_use", ""),
            )
            if x
        ),
        "1c": f"Model entity {version.get('entity_id')}; environments {environments}"
        if environments
        else "",
        "2a": "; ".join(
            f"{c['name'] or c['activity_id']} ({c['code_hash']}, {c['notebook']})"
            for c in facts.get("code") or []
        ),
        "2b": f"{facts.get('class', '')}" if facts.get("class") else "",
        "2d": ev.training_text(e),
        "2f": "; ".join(
            f"{m['id']}: {m['description']}" for m in protocol.get("modifications") or []
        ),
        "2g": f"{ev.criteria_text(e)} (package {ev.validation(e).get('package_id')})"
        if ev.validation(e)
        else "",
        "3": "; ".join(f"{a}={lvl}: AUROC {v}" for a, lvl, v in ev.subgroup_rows(e)),
        "4": ev.criteria_text(e),
        "6": history,
        "9": protocol.get("monitoring", ""),
    }


def build_annex_iv(evidence: dict[str, Any]) -> Document:
    auto = _auto(evidence)
    sections = []
    for point, title, mode in POINTS:
        text = auto.get(point, "")
        manual = ev.answer(evidence, "annex_iv", point)
        if mode == "manual":
            status = "manual" if manual else "missing"
        elif mode == "partial":
            status = "partial" if text and manual else ("manual" if manual else "missing")
        else:
            status = "automatic" if text else ("manual" if manual else "missing")
        sections.append(
            Section(
                id=point,
                title=title,
                status=status,
                mode=mode,
                text="\n\n".join(x for x in (text, manual) if x),
                evidence=ev.package_ref(evidence) if text else [],
            )
        )
    model = evidence.get("model") or {}
    return Document(
        kind="annex-iv",
        title="EU AI Act Annex IV technical documentation (skeleton)",
        subject=f"{model.get('name')} v{ev.version(evidence).get('version')}",
        preface="Points filled from the lineage, the registry and the validation package cite "
        "their evidence; points marked manual need the provider's text.",
        sections=sections,
    )
