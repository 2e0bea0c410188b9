"""A datasheet per registered dataset: composition, provenance and uses from the graph."""

from __future__ import annotations

from typing import Any

from cmlops.lifecycle.documents import evidence_text as ev
from cmlops.lifecycle.documents.base import Document, Section


def _rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(id, title, text) of the sections the lineage fills."""
    entity = data.get("entity") or {}
    schema = entity.get("schema") or {}
    columns = schema.get("columns") or []
    composition = (
        f"{schema.get('rows')} rows, {len(columns)} columns: "
        + ", ".join(
            f"{c.get('name')} ({c.get('dtype')}, {c.get('missing', 0)} missing)" for c in columns
        )
        if columns
        else f"kind {entity.get('kind')}, fingerprint {entity.get('fingerprint')}"
    )
    provenance = "; ".join(
        f"{a.get('name') or a.get('id')} ({a.get('kind')}, {a.get('started')}, code "
        f"{a.get('code_hash') or '—'})"
        for a in data.get("produced_by") or []
    )
    sources = ", ".join(
        f"{s.get('name') or s.get('id')} ({s.get('id')})" for s in data.get("sources") or []
    )
    uses = "; ".join(
        f"{u.get('name') or u.get('id')} ({u.get('kind')})" for u in data.get("used_by") or []
    )
    models = ", ".join(data.get("models") or [])
    return [
        (
            "identity",
            "Identity",
            f"{entity.get('name')} — {entity.get('id')} (location {entity.get('location') or '—'})",
        ),
        ("composition", "Composition", composition),
        ("provenance", "Provenance (how it was produced)", provenance),
        ("sources", "Sources it was derived from", sources),
        ("uses", "Uses recorded in the lineage", uses),
        ("models", "Registered model versions trained on it", models),
    ]


def build_datasheet(evidence: dict[str, Any]) -> Document:
    data = evidence.get("dataset") or {}
    entity = data.get("entity") or {}
    sections = [
        Section(
            id=i,
            title=t,
            status="automatic" if x else "missing",
            text=x,
            evidence=[f"entity {entity.get('id')}"] if x else [],
        )
        for i, t, x in _rows(data)
    ]
    for key, title in (
        ("motivation", "Motivation"),
        ("collection", "Collection process"),
        ("preprocessing", "Pre-processing, cleaning, labelling"),
        ("distribution", "Distribution and maintenance"),
    ):
        answer = ev.answer(evidence, "datasheet", key)
        sections.append(
            Section(
                id=key,
                title=title,
                status="manual" if answer else "missing",
                text=answer,
                mode="manual",
            )
        )
    return Document(
        kind="datasheet",
        title="Datasheet",
        subject=str(entity.get("name") or entity.get("id")),
        preface="Composition from the schema summary and fingerprint, provenance and uses from "
        "the lineage graph (Gebru et al., Datasheets for Datasets); the motivation and "
        "collection sections need the data owner's text.",
        sections=sections,
    )
