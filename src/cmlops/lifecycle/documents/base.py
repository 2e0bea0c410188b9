"""The document model every dossier shares, its HTML page and its files."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("automatic", "partial", "manual", "missing")


@dataclass
class Section:
    """One item of a dossier (a TRIPOD+AI sub-item, an Annex IV point, a step ...)."""

    id: str
    title: str
    status: str
    text: str = ""
    requirement: str = ""
    evidence: list[str] = field(default_factory=list)
    mode: str = ""  # how the item can be filled: automatic / partial / manual
    group: str = ""


@dataclass
class Document:
    """A compiled dossier: sections, the missing items, metrics, extra files."""

    kind: str
    title: str
    subject: str
    sections: list[Section]
    preface: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> list[Section]:
        return [s for s in self.sections if s.status == "missing"]

    def metrics(self) -> dict[str, Any]:
        counts = {f"dossier_{s}_items": 0 for s in STATUSES}
        for section in self.sections:
            counts[f"dossier_{section.status}_items"] += 1
        return {**counts, "dossier_items": len(self.sections), **self.extra.get("metrics", {})}

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "cmlops.dossier/1",
            "kind": self.kind,
            "title": self.title,
            "subject": self.subject,
            "preface": self.preface,
            "sections": [asdict(s) for s in self.sections],
            "missing": [s.id for s in self.missing],
            "metrics": self.metrics(),
            "files": sorted(self.files),
        }


_COLOURS = {"automatic": "#1a7f37", "partial": "#9a6700", "manual": "#0969da", "missing": "#cf222e"}


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def render_html(doc: Document) -> str:
    """A self-contained page (no script, no network); every value escaped."""
    rows = []
    group = None
    for s in doc.sections:
        if s.group and s.group != group:
            group = s.group
            rows.append(f"<tr><th colspan='4' class='grp'>{html.escape(group)}</th></tr>")
        evidence = "".join(f"<li><code>{html.escape(e)}</code></li>" for e in s.evidence)
        rows.append(
            "<tr>"
            f"<td class='id'>{html.escape(s.id)}</td>"
            f"<td><b>{html.escape(s.title)}</b>"
            + (f"<div class='req'>{html.escape(s.requirement)}</div>" if s.requirement else "")
            + f"{_paragraphs(s.text)}</td>"
            f"<td style='color:{_COLOURS.get(s.status, '#000')};font-weight:bold'>"
            f"{html.escape(s.status)}</td>"
            f"<td><ul>{evidence}</ul></td></tr>"
        )
    missing = "".join(f"<li>{html.escape(s.id)} {html.escape(s.title)}</li>" for s in doc.missing)
    counts = ", ".join(
        f"{k.removeprefix('dossier_')}: {v}"
        for k, v in doc.metrics().items()
        if k.startswith("dossier_")
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(doc.title)} — {html.escape(doc.subject)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:70em}td,th{border:1px solid #ccc;"
        "padding:4px 8px;vertical-align:top;font-size:13px;text-align:left}"
        "table{border-collapse:collapse}.req{color:#555;font-style:italic}"
        ".grp{background:#f0f0f0}.id{white-space:nowrap}</style></head><body>"
        f"<h1>{html.escape(doc.title)}</h1><h2>{html.escape(doc.subject)}</h2>"
        f"{_paragraphs(doc.preface)}<p><b>Items:</b> {html.escape(counts)}</p>"
        + (f"<h3>Still missing ({len(doc.missing)})</h3><ul>{missing}</ul>" if doc.missing else "")
        + "<table><thead><tr><th>item</th><th>content</th><th>status</th><th>evidence</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
    )


def write_document(doc: Document, folder: Path, stem: str) -> list[str]:
    """Write ``<stem>.html``, ``<stem>.json`` and the document's extra files; their names."""
    from cmlops.atomic_files import write_atomic

    names = [f"{stem}.html", f"{stem}.json", *sorted(doc.files)]
    write_atomic(folder / names[0], render_html(doc))
    write_atomic(folder / names[1], json.dumps(doc.to_dict(), indent=2, sort_keys=True))
    for name, data in sorted(doc.files.items()):
        write_atomic(folder / name, data)
    return names
