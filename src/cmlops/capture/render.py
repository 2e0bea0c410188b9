"""Lineage graphs for people: a self-contained SVG/HTML view and a text fallback.

No JavaScript and no network: the HTML is an inline SVG laid out in columns
(inputs on the left, each activity's outputs to its right), so it renders the
same in a live kernel, an exported notebook and an audit package. Every label
is escaped.
"""

from __future__ import annotations

from html import escape

from cmlops.store import LineageGraph
from cmlops.terminal_text import terminal_safe

_COL_W, _ROW_H, _BOX_W, _BOX_H = 220, 56, 190, 38


def _label(kind: str, name: str, ident: str) -> str:
    short = ident.split(":", 1)[-1][:10]
    return f"{name or kind} [{kind} {short}]"


class LineageView:
    """Displays a :class:`LineageGraph`; ``to_text()`` is the plain fallback."""

    def __init__(self, graph: LineageGraph) -> None:
        self.graph = graph

    def to_text(self) -> str:
        g = self.graph
        if not g.activities and not g.entities:
            return "lineage: nothing recorded"
        lines = [f"lineage: {len(g.activities)} activities, {len(g.entities)} entities"]
        for activity in sorted(g.activities.values(), key=lambda a: (a.started, a.id)):
            lines.append(
                f"* {activity.name or activity.kind} ({activity.status}) {activity.started}"
                f" {activity.notebook}".rstrip()
            )
            for edge in g.used:
                if edge.activity_id == activity.id:
                    entity = g.entities.get(edge.entity_id)
                    label = (
                        _label(entity.kind, entity.name, entity.id) if entity else edge.entity_id
                    )
                    lines.append(f"    used      {label}")
            for edge in g.generated:
                if edge.activity_id == activity.id:
                    entity = g.entities.get(edge.entity_id)
                    label = (
                        _label(entity.kind, entity.name, entity.id) if entity else edge.entity_id
                    )
                    lines.append(f"    generated {label}")
        return "\n".join(terminal_safe(line) for line in lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _layers(self) -> dict[str, int]:
        """Column of each node: an entity after the activity that generated it."""
        g = self.graph
        layer: dict[str, int] = {e: 0 for e in g.entities}
        for a in g.activities:
            layer[a] = 1
        for _ in range(len(layer) + 1):
            changed = False
            for edge in g.used:
                want = layer.get(edge.entity_id, 0) + 1
                if layer.get(edge.activity_id, 1) < want:
                    layer[edge.activity_id], changed = want, True
            for edge in g.generated:
                want = layer.get(edge.activity_id, 1) + 1
                if layer.get(edge.entity_id, 0) < want:
                    layer[edge.entity_id], changed = want, True
            if not changed:
                break
        return layer

    def _repr_html_(self) -> str:
        g = self.graph
        if not g.activities and not g.entities:
            return "<p>lineage: nothing recorded</p>"
        layer = self._layers()
        rows: dict[int, int] = {}
        pos: dict[str, tuple[int, int]] = {}
        for node in sorted(layer, key=lambda n: (layer[n], n)):
            col = layer[node]
            row = rows.get(col, 0)
            rows[col] = row + 1
            pos[node] = (10 + col * _COL_W, 10 + row * _ROW_H)
        width = 20 + (max(layer.values()) + 1) * _COL_W
        height = 20 + max(rows.values()) * _ROW_H
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            'font-family="sans-serif" font-size="11" role="img" aria-label="lineage graph">',
            '<defs><marker id="cmlops-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" '
            'fill="#666"/></marker></defs>',
        ]
        edges = [(e.entity_id, e.activity_id) for e in g.used] + [
            (e.activity_id, e.entity_id) for e in g.generated
        ]
        for source, target in edges:
            if source in pos and target in pos:
                (x1, y1), (x2, y2) = pos[source], pos[target]
                parts.append(
                    f'<line x1="{x1 + _BOX_W}" y1="{y1 + _BOX_H // 2}" x2="{x2}" '
                    f'y2="{y2 + _BOX_H // 2}" stroke="#666" marker-end="url(#cmlops-arrow)"/>'
                )
        for node, (x, y) in pos.items():
            if node in g.activities:
                a = g.activities[node]
                text, sub = a.name or a.kind, f"{a.status} {a.started[:19]}"
                fill = "#fde2e2" if a.status == "error" else "#e3ecfa"
                shape = (
                    f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" '
                    f'fill="{fill}" stroke="#4a6fa5"/>'
                )
            else:
                e = g.entities[node]
                text, sub = e.name or e.kind, f"{e.kind} {e.id.split(':', 1)[-1][:12]}"
                shape = (
                    f'<rect x="{x}" y="{y}" rx="14" width="{_BOX_W}" height="{_BOX_H}" '
                    'fill="#fff4d6" stroke="#b08900"/>'
                )
            parts.append(
                f"<g><title>{escape(node)}</title>{shape}"
                f'<text x="{x + 8}" y="{y + 15}">{escape(text[:30])}</text>'
                f'<text x="{x + 8}" y="{y + 30}" fill="#555">{escape(sub)}</text></g>'
            )
        parts.append("</svg>")
        text = escape(self.to_text())
        return (
            '<div class="cmlops-lineage">' + "".join(parts) + "<details><summary>text</summary>"
            f"<pre>{text}</pre></details></div>"
        )
