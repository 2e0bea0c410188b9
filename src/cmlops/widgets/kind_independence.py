"""Train/test independence view: verdict, the three checks, shared subjects as salted hashes.

Nothing here can show an identifier: the result carries only HMAC digests (shown
shortened) and 0-based test row positions.
"""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import go, style
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell

FIGURE = "Findings"
MAX_LISTED = 200


def refine(model: ViewModel) -> None:
    d = model.data
    shared, dup, near = d.get("shared_subjects"), d.get("duplicate_rows"), d.get("near_duplicates")
    verdict = str(d.get("verdict") or "pass")
    model.title = "Train/test independence"
    model.status = {"fail": "bad", "warn": "warn", "pass": "good"}.get(verdict, "neutral")
    parts = []
    if shared is not None:
        parts.append(f"{shared} shared subject{'s' if shared != 1 else ''}")
    if dup is not None:
        parts.append(f"{dup} duplicate row{'s' if dup != 1 else ''}")
    if near is not None:
        parts.append(f"{near} near-duplicate{'s' if near != 1 else ''}")
    model.verdict = f"{verdict.upper()}: " + (", ".join(parts) or "nothing compared")
    model.facts = [
        ("id column", str(d.get("id_column") or "—")),
        ("train rows / subjects", _pair(d.get("n_train_rows"), d.get("n_train_subjects"))),
        ("test rows / subjects", _pair(d.get("n_test_rows"), d.get("n_test_subjects"))),
        ("test rows of shared subjects", format_cell(d.get("shared_test_rows"))),
        ("ids compared as", f"{d.get('hash_method', '')} with salt {d.get('salt_id', '')}"),
    ]
    hashes = [str(h) for h in d.get("shared_subject_hashes") or []]
    if hashes:
        rows = [[h[:16], h] for h in hashes[:MAX_LISTED]]
        model.lead_tables.append(
            (
                f"Shared subjects ({len(hashes)}; salted hashes, never the ids)",
                Table(columns=["hash (short)", "HMAC-SHA256"], rows=rows, total_rows=len(hashes)),
            )
        )
    for title, key in (
        ("Test rows duplicating a training row", "duplicate_positions"),
        ("Test rows near a training row on the key columns", "near_duplicate_positions"),
    ):
        positions = d.get(key) or []
        if positions:
            shown = ", ".join(str(p) for p in positions[:MAX_LISTED])
            more = "" if len(positions) <= MAX_LISTED else f" … ({len(positions)} listed)"
            model.notes.append(f"{title} (0-based positions): {shown}{more}")
    model.table_title = "Checks"
    model.table = Table(
        columns=model.table.columns,
        rows=model.table.rows,
        key_column="check" if "check" in model.table.columns else model.table.key_column,
        total_rows=model.table.total_rows,
    )
    model.item_label = "Figure"
    model.items = [FIGURE]
    model.static_items = [FIGURE] if verdict != "pass" else []
    model.figure_builder = lambda _item: findings_figure(d)


def _pair(rows: Any, subjects: Any) -> str:
    return f"{format_cell(rows)} / {format_cell(subjects)}"


def findings_figure(d: dict[str, Any]) -> Any:
    labels = ["shared subjects", "duplicate rows", "near-duplicates"]
    values = [d.get("shared_subjects"), d.get("duplicate_rows"), d.get("near_duplicates")]
    colours = [theme.BAD, theme.WARN, theme.WARN]
    g = go()
    fig = g.Figure(
        g.Bar(
            x=labels,
            y=[v or 0 for v in values],
            marker_color=[c if v else theme.GOOD for c, v in zip(colours, values, strict=True)],
            text=[format_cell(v) for v in values],
            textposition="outside",
            cliponaxis=False,
        )
    )
    style(fig, FIGURE, yaxis={"title": {"text": "count"}}, xaxis={"type": "category"})
    return fig
