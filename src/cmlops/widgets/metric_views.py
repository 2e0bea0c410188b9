"""What the evaluation and the comparison views share: tables, sample facts, figure parts.

Both results are metric rows over one scored sample (``n``, ``events``, score scale,
thresholds, interval level, subgroups, criteria), so their views key the table by
metric with the method column hidden, list the methods, state the sample the same
way, draw the same reference diagonal and the same forest-plot panels (a point with
its interval whiskers per subgroup, the whole sample in the text colour).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import go, message_figure, num, ptext, style
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell

#: columns of the metric table kept in the data but not shown
HIDDEN = ["method"]

Builder = Callable[[dict[str, Any]], Any]


def set_verdict(model: ViewModel, passed: Any, texts: tuple[str, str, str | None, str]) -> None:
    """Verdict line, status and badge from the criteria's ``passed``.

    ``texts``: the line when every criterion was met, when one failed, when one could
    not be evaluated (None: no criterion row left open) and when nothing was judged.
    """
    met, failed, not_evaluable, otherwise = texts
    if passed is True:
        model.verdict, model.status, model.badge = met, "good", "pass"
    elif passed is False:
        model.verdict, model.status, model.badge = failed, "bad", "fail"
    elif not_evaluable is not None:
        model.verdict, model.status, model.badge = not_evaluable, "warn", "not evaluated"
    else:
        model.verdict, model.status = otherwise, "neutral"


def metric_tables(model: ViewModel, d: dict[str, Any]) -> None:
    """Key the main table by metric (method hidden) and add the Methods table."""
    model.table = Table(
        columns=model.table.columns,
        rows=model.table.rows,
        key_column="metric" if "metric" in model.table.columns else model.table.key_column,
        total_rows=model.table.total_rows,
        hidden=[c for c in HIDDEN if c in model.table.columns],
    )
    methods = d.get("methods") or {}
    if methods:
        mrows = [[k, v] for k, v in methods.items()]
        model.extra_tables.append(
            ("Methods", Table(columns=["metric", "method"], rows=mrows, total_rows=len(mrows)))
        )


def sample_facts(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Sample size, events, score scale, thresholds, interval level, subgroups, criteria."""
    prevalence = num(d.get("prevalence"))
    level = num(d.get("level")) or 0.95
    facts = [
        ("n", format_cell(d.get("n"))),
        ("events", format_cell(d.get("events"))),
        ("prevalence", "—" if prevalence is None else f"{100 * prevalence:.1f}%"),
        ("score scale", str(d.get("score_scale", "—"))),
        ("thresholds", ", ".join(format_cell(t) for t in d.get("thresholds") or []) or "—"),
        ("interval level", f"{100 * level:.0f}%"),
    ]
    if d.get("group_variables"):
        facts.append(("subgroups by", ", ".join(map(str, d["group_variables"]))))
    if d.get("criteria"):
        crit = "; ".join(
            f"{k} {' '.join(format_cell(x) for x in (v if isinstance(v, list) else [v]))}"
            for k, v in d["criteria"].items()
        )
        facts.append(("criteria", crit))
    return facts


def set_figures(
    model: ViewModel,
    d: dict[str, Any],
    builders: dict[str, Builder],
    items: Sequence[str] | None = None,
) -> None:
    """The figures of the view (``items``, default every builder), each drawn from ``d``."""
    model.items = list(builders if items is None else items)
    model.static_items = list(model.items)
    model.figure_builder = lambda item: builders.get(item, _unknown)(d)


def _unknown(d: dict[str, Any]) -> Any:
    return message_figure("Unknown figure.")


def diagonal(fig: Any, name: str) -> None:
    """The dashed reference line from (0, 0) to (1, 1): chance (ROC), ideal (calibration)."""
    fig.add_trace(
        go().Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name=name,
            line={"color": "#bdbdbd", "dash": "dash", "width": 1},
        )
    )


def forest_trace(sel: dict[Any, dict[str, Any]], subgroups: list[str], key: str) -> Any:
    """One forest panel: each subgroup's ``key`` with its interval whiskers, "all" in the
    text colour; a subgroup without a row or an undefined value leaves a gap."""
    xs, ys, plus, minus = [], [], [], []
    for s in subgroups:
        r = sel.get(s) or {}
        v, lo, hi = num(r.get(key)), num(r.get("ci_low")), num(r.get("ci_high"))
        xs.append(v)
        ys.append(ptext(s))
        plus.append(hi - v if v is not None and hi is not None else None)
        minus.append(v - lo if v is not None and lo is not None else None)
    return go().Scatter(
        x=xs,
        y=ys,
        mode="markers",
        showlegend=False,
        marker={
            "color": [theme.TEXT if s == "all" else theme.ACCENT for s in subgroups],
            "size": 8,
        },
        error_x={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1.2},
    )


def finish_forest(fig: Any, title: str, height: int) -> Any:
    """Title and height of a forest figure; subgroups top to bottom as categories."""
    style(fig, title, height=height)
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_annotations(font_size=11)
    return fig
