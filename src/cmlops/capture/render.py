"""Lineage graphs for people: a self-contained SVG/HTML view and a text fallback.

No JavaScript and no network: the HTML is an inline SVG laid out in columns
(inputs on the left, each activity's outputs to its right), so it renders the
same in a live kernel, an exported notebook and an audit package. The SVG has a
``viewBox`` and scales down to the width of its cell (never above its natural
size). Model nodes show their class and hyper-parameters as recorded. Every label
is escaped.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from cmlops.store import LineageGraph
from cmlops.store.values import decode_value
from cmlops.terminal_text import terminal_safe

_COL_W, _ROW_H, _BOX_W, _BOX_H = 220, 62, 190, 50


def _label(kind: str, name: str, ident: str) -> str:
    short = ident.split(":", 1)[-1][:10]
    return f"{name or kind} [{kind} {short}]"


def _entity_text(entity: Any, fallback: str) -> str:
    """An entity in the text view; a model with its class and hyper-parameters."""
    if entity is None:
        return fallback
    text = _label(entity.kind, entity.name, entity.id)
    model = model_summary(entity)
    if model is not None:
        cls, params = model
        text += f" {cls.rsplit('.', 1)[-1]}({', '.join(f'{k}={v}' for k, v in params)})"
    return text


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
                    lines.append(f"    used      {_entity_text(entity, edge.entity_id)}")
            for edge in g.generated:
                if edge.activity_id == activity.id:
                    entity = g.entities.get(edge.entity_id)
                    lines.append(f"    generated {_entity_text(entity, edge.entity_id)}")
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

    def _positions(self) -> tuple[dict[str, tuple[int, int]], int, int]:
        """Top-left corner of each node, and the drawing's width and height."""
        layer = self._layers()
        rows: dict[int, int] = {}
        pos: dict[str, tuple[int, int]] = {}
        for node in sorted(layer, key=lambda n: (layer[n], n)):
            col = layer[node]
            row = rows.get(col, 0)
            rows[col] = row + 1
            pos[node] = (10 + col * _COL_W, 10 + row * _ROW_H)
        width = 20 + (max(layer.values()) + 1) * _COL_W - (_COL_W - _BOX_W)
        height = 20 + max(rows.values()) * _ROW_H - (_ROW_H - _BOX_H)
        return pos, width, height

    def _repr_html_(self) -> str:
        g = self.graph
        if not g.activities and not g.entities:
            return "<p>lineage: nothing recorded</p>"
        pos, width, height = self._positions()
        # viewBox + width 100%: the drawing scales down to its cell (never beyond its
        # natural size) instead of running off the right edge of the output
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="100%" preserveAspectRatio="xMinYMin meet" '
            f'style="max-width:{width}px;height:auto;display:block" '
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
        parts.extend(self._node(node, x, y) for node, (x, y) in pos.items())
        parts.append("</svg>")
        text = escape(self.to_text())
        return (
            '<div class="cmlops-lineage" style="max-width:100%;overflow:hidden">'
            + "".join(parts)
            + f"<details><summary>text</summary><pre>{text}</pre></details></div>"
        )

    def _node(self, node: str, x: int, y: int) -> str:
        """One node: a box with its name and what it is; a model also shows its class and
        hyper-parameters (all of them in the tooltip)."""
        g = self.graph
        lines: list[tuple[str, str]]
        if node in g.activities:
            a = g.activities[node]
            lines = [(a.name or a.kind, ""), (f"{a.status} {a.started[:19]}", "#555")]
            fill, stroke, rx = ("#fde2e2" if a.status == "error" else "#e3ecfa"), "#4a6fa5", 0
            tip = node
        else:
            e = g.entities[node]
            lines = [(e.name or e.kind, ""), (f"{e.kind} {e.id.split(':', 1)[-1][:12]}", "#555")]
            fill, stroke, rx = "#fff4d6", "#b08900", 14
            tip = node
            model = model_summary(e)
            if model is not None:
                cls, params = model
                lines[1] = (cls.rsplit(".", 1)[-1] or "model (class not recorded)", "#555")
                if params:
                    lines.append((", ".join(f"{k}={v}" for k, v in params), "#555"))
                tip = "\n".join([node, cls, *(f"{k} = {v}" for k, v in params)])
        texts = "".join(
            f'<text x="{x + 8}" y="{y + 15 + 14 * i}"'
            + (f' fill="{colour}"' if colour else "")
            + f">{escape(_clip(line, 30))}</text>"
            for i, (line, colour) in enumerate(lines)
        )
        return (
            f"<g><title>{escape(tip)}</title>"
            f'<rect x="{x}" y="{y}" rx="{rx}" width="{_BOX_W}" height="{_BOX_H}" '
            f'fill="{fill}" stroke="{stroke}"/>{texts}</g>'
        )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def model_summary(entity: Any) -> tuple[str, list[tuple[str, str]]] | None:
    """``(class, [(parameter, value as JSON)])`` of a model entity, or None for other kinds
    (the class is ``""`` when the capture did not record it).

    Read from what the fingerprint recorded (``schema`` or ``attributes``: class and
    ``get_params(deep=False)``), never from the live object.
    """
    if entity.kind != "model":
        return None
    schema = entity.schema if isinstance(entity.schema, dict) else {}
    attributes = entity.attributes if isinstance(entity.attributes, dict) else {}
    cls = str(schema.get("class") or attributes.get("class") or "")
    params = schema.get("params") or attributes.get("params") or {}
    if not isinstance(params, dict):
        params = {}
    shown = [  # tagged numbers (``cmlops:num:1e+16``) shown as the value they stand for
        (str(k), _clip(json.dumps(v, sort_keys=True, ensure_ascii=False, default=str), 80))
        for k, v in sorted(decode_value(params).items(), key=lambda kv: str(kv[0]))
    ]
    return cls, shown
