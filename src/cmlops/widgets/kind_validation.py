"""Validation view: verdict, failing checks first (with examples), every check, outcome plots."""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import go, message_figure, num, ptext, style
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell, plain

STATUS_ORDER = {"fail": 0, "warn": 1, "skipped": 2, "pass": 3}
STATUS_COLOURS = {"fail": theme.BAD, "warn": theme.WARN, "skipped": "#9e9e9e", "pass": theme.GOOD}
FAILING = "Failing rows by check"
BY_COLUMN = "Check outcomes by column"
MAX_BARS = 40


def _checks(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in d.get("checks") or [] if isinstance(c, dict)]


def refine(model: ViewModel) -> None:
    d = model.data
    checks = _checks(d)
    counts = {s: sum(1 for c in checks if c.get("status") == s) for s in STATUS_ORDER}
    verdict = str(d.get("verdict") or ("fail" if counts["fail"] else "pass"))
    model.status = {"fail": "bad", "warn": "warn", "pass": "good"}.get(verdict, "neutral")
    model.verdict = (
        f"{verdict.upper()}: {counts['fail']} failed, {counts['warn']} warnings, "
        f"{counts['skipped']} skipped, {counts['pass']} passed of {len(checks)} checks"
    )
    model.title = "Data validation"
    model.facts = [
        ("rows", format_cell(d.get("n_rows"))),
        ("columns", format_cell(d.get("n_columns"))),
    ]
    if d.get("schema_name"):
        model.facts.append(("schema", f"{d['schema_name']} v{d.get('schema_version', '')}"))
    if d.get("engine"):
        model.facts.append(("engine", str(d["engine"])))
    table = model.table
    if "status" in table.columns:
        i = table.columns.index("status")
        rows = sorted(table.rows, key=lambda r: STATUS_ORDER.get(str(plain(r[i])), 9))
        table = Table(
            columns=table.columns,
            rows=rows,
            key_column="check" if "check" in table.columns else table.key_column,
            total_rows=table.total_rows,
            hidden=[c for c in ("passed",) if c in table.columns],
        )
        failing = [r for r in rows if str(plain(r[i])) in ("fail", "warn")]
        if failing:
            model.lead_tables.append(
                (
                    f"Failing checks ({len(failing)})",
                    Table(
                        columns=table.columns,
                        rows=failing,
                        key_column=table.key_column,
                        total_rows=len(failing),
                        hidden=table.hidden,
                    ),
                )
            )
    model.table = table
    model.table_title = "All checks"
    model.item_label = "Figure"
    model.items = [FAILING, BY_COLUMN] if checks else []
    model.static_items = [FAILING, BY_COLUMN] if counts["fail"] + counts["warn"] else []
    model.figure_builder = lambda item: (
        failing_figure(checks) if item == FAILING else by_column_figure(checks)
    )


def failing_figure(checks: list[dict[str, Any]]) -> Any:
    failed = [c for c in checks if c.get("status") in ("fail", "warn")]
    if not failed:
        return message_figure("Every check passed.", FAILING)
    failed.sort(key=lambda c: -(num(c.get("failing_share")) or 0.0))
    shown = failed[:MAX_BARS]
    labels = [ptext(f"{c.get('column')} · {c.get('check')}") for c in shown]
    g = go()
    fig = g.Figure(
        g.Bar(
            x=[num(c.get("failing_share")) or 0.0 for c in shown],
            y=labels,
            orientation="h",
            marker_color=[STATUS_COLOURS.get(str(c.get("status")), "#9e9e9e") for c in shown],
            text=[format_cell(c.get("failing_rows")) for c in shown],
            textposition="outside",
            cliponaxis=False,
            hovertext=[ptext(c.get("message") or "") for c in shown],
        )
    )
    title = FAILING if len(failed) <= MAX_BARS else f"{FAILING} ({MAX_BARS} of {len(failed)})"
    style(
        fig,
        title,
        height=max(200, 70 + 22 * len(shown)),
        xaxis={"title": {"text": "share of rows failing"}, "tickformat": ".0%"},
        margin={"r": 48},
    )
    fig.update_yaxes(autorange="reversed", type="category")
    return fig


def by_column_figure(checks: list[dict[str, Any]]) -> Any:
    if not checks:
        return message_figure("No checks were run.", BY_COLUMN)
    columns: list[str] = []
    for c in checks:
        name = str(c.get("column"))
        if name not in columns:
            columns.append(name)
    columns = columns[:MAX_BARS]
    g = go()
    fig = g.Figure()
    for status, colour in STATUS_COLOURS.items():
        counts = [
            sum(1 for c in checks if str(c.get("column")) == col and c.get("status") == status)
            for col in columns
        ]
        if any(counts):
            fig.add_trace(
                g.Bar(name=status, x=[ptext(c) for c in columns], y=counts, marker_color=colour)
            )
    style(
        fig,
        BY_COLUMN,
        barmode="stack",
        xaxis={"type": "category"},
        yaxis={"title": {"text": "checks"}},
    )
    return fig
