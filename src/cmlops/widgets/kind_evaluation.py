"""Evaluation view: criteria verdict, metric table, ROC, calibration, decision curve, subgroups.

The figures read the curves the :class:`EvaluationResult` keeps (``roc``,
``calibration_curve``, ``calibration_bins``, ``decision_curve``) and the metric rows
(pre-specified thresholds are marked on the ROC curve; subgroup metrics with their
intervals make the forest plot). A curve that is undefined (one outcome class, an
empty subgroup) gives a figure that says so.
"""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import (
    CALIBRATION_AXES,
    ROC_AXES,
    decision_axes,
    go,
    message_figure,
    num,
    ptext,
    style,
    thin,
)
from cmlops.widgets.metric_views import (
    diagonal,
    finish_forest,
    forest_trace,
    metric_tables,
    sample_facts,
    set_figures,
    set_verdict,
)
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell

ROC = "ROC curve"
CALIBRATION = "Calibration curve"
DECISION = "Decision curve"
SUBGROUPS = "Subgroup metrics"
FOREST_METRICS = ("auroc", "calibration_slope", "oe_ratio", "sensitivity", "specificity")
MAX_GROUP_LINES = 8
#: panels per row of the subgroup figure (more side by side and their titles collide)
FOREST_COLUMNS = 3


def _ci(v: Any, lo: Any, hi: Any) -> str:
    if num(v) is None:
        return "undefined"
    if num(lo) is None or num(hi) is None:
        return format_cell(v)
    return f"{format_cell(v)} ({format_cell(lo)}–{format_cell(hi)})"


def _rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in d.get("metrics") or [] if isinstance(m, dict)]


def refine(model: ViewModel) -> None:
    d = model.data
    rows = _rows(d)
    failed = [m for m in rows if m.get("passed") is False]
    _verdict(model, d, rows)
    model.facts = sample_facts(d)
    model.title = "Model evaluation"
    model.item_label = "Figure"
    metric_tables(model, d)
    if failed:
        model.lead_tables.append(("Failed acceptance criteria", _failed_table(failed)))
    builders = {
        ROC: roc_figure,
        CALIBRATION: calibration_figure,
        DECISION: decision_figure,
        SUBGROUPS: subgroup_figure,
    }
    shown = list(builders) if d.get("subgroups") else [ROC, CALIBRATION, DECISION]
    set_figures(model, d, builders, shown)


def _verdict(model: ViewModel, d: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Pass, fail or not evaluable over the criteria, with the overall AUROC; else descriptive."""
    overall = {
        m["metric"]: m for m in rows if m.get("subgroup") == "all" and m.get("threshold") is None
    }
    judged = [m for m in rows if m.get("passed") is not None]
    failed = [m for m in judged if m.get("passed") is False]
    auroc = overall.get("auroc") or {}
    auc_text = f"AUROC {_ci(auroc.get('value'), auroc.get('ci_low'), auroc.get('ci_high'))}"
    unjudged = [m for m in rows if m.get("criterion") and m.get("passed") is None]
    n = len(judged)
    texts = (
        f"All {n} acceptance criteria met · {auc_text}",
        f"{len(failed)} of {n} acceptance criteria failed · {auc_text}",
        f"{len(unjudged)} acceptance criteria not evaluable · {auc_text}" if unjudged else None,
        auc_text,  # descriptive: a report's plan (if any) is judged elsewhere, not claimed here
    )
    set_verdict(model, d.get("passed"), texts)


def _failed_table(failed: list[dict[str, Any]]) -> Table:
    """The rows that failed their criterion, shown above everything else."""
    fail_rows = [
        [m.get("metric"), m.get("subgroup"), m.get("threshold"), m.get("value"),
         m.get("criterion"), False]
        for m in failed
    ]  # fmt: skip
    return Table(
        columns=["metric", "subgroup", "threshold", "value", "criterion", "passed"],
        rows=fail_rows,
        key_column="metric",
        total_rows=len(fail_rows),
    )


def _groups(curves: dict[str, Any]) -> list[str]:
    names = [k for k in curves if k != "all"]
    return (["all"] if "all" in curves else []) + names[:MAX_GROUP_LINES]


def _line(name: str, i: int) -> dict[str, Any]:
    if name == "all":
        return {"color": theme.TEXT, "width": 2.5}
    return {"color": theme.PALETTE[i % len(theme.PALETTE)], "width": 1.5}


def roc_figure(d: dict[str, Any]) -> Any:
    curves = d.get("roc") or {}
    names = [n for n in _groups(curves) if (curves.get(n) or {}).get("fpr")]
    if not names:
        return message_figure("ROC curve undefined (needs both outcome classes).", ROC)
    g = go()
    fig = g.Figure()
    diagonal(fig, "chance")
    aucs = {m.get("subgroup"): m for m in _rows(d) if m.get("metric") == "auroc"}
    for i, name in enumerate(names):
        c = curves[name]
        x, y = thin(c.get("fpr") or [], c.get("tpr") or [])
        auc = aucs.get(name, {})
        label = f"{ptext(name)} (AUROC {format_cell(auc.get('value'))})"
        fig.add_trace(g.Scatter(x=x, y=y, mode="lines", name=label, line=_line(name, i)))
    sens = {
        (m.get("subgroup"), m.get("threshold")): m.get("value")
        for m in _rows(d)
        if m.get("metric") == "sensitivity"
    }
    spec = {
        (m.get("subgroup"), m.get("threshold")): m.get("value")
        for m in _rows(d)
        if m.get("metric") == "specificity"
    }
    pts = [(t, sens.get(("all", t)), spec.get(("all", t))) for t in d.get("thresholds") or []]
    pts = [(t, se, sp) for t, se, sp in pts if num(se) is not None and num(sp) is not None]
    if pts:
        fig.add_trace(
            g.Scatter(
                x=[1 - sp for _, _, sp in pts],
                y=[se for _, se, _ in pts],
                mode="markers+text",
                text=[f"t={format_cell(t)}" for t, _, _ in pts],
                textposition="bottom right",
                name="pre-specified thresholds",
                marker={"size": 9, "color": theme.BAD, "symbol": "x"},
            )
        )
    return style(fig, ROC, **ROC_AXES)


def calibration_figure(d: dict[str, Any]) -> Any:
    curves = d.get("calibration_curve") or {}
    bins = (d.get("calibration_bins") or {}).get("all") or {}
    names = [n for n in _groups(curves) if (curves.get(n) or {}).get("predicted")]
    if not names and not bins.get("predicted"):
        why = (
            "raw scores are not probabilities"
            if d.get("score_scale") == "raw"
            else ("needs both outcome classes")
        )
        return message_figure(f"Calibration curve undefined ({why}).", CALIBRATION)
    g = go()
    fig = g.Figure()
    diagonal(fig, "ideal")
    for i, name in enumerate(names):
        c = curves[name]
        x, y = thin(c.get("predicted") or [], c.get("observed") or [])
        fig.add_trace(
            g.Scatter(x=x, y=y, mode="lines", name=f"{ptext(name)} (lowess)", line=_line(name, i))
        )
    if bins.get("predicted"):
        lo, hi, obs = (
            bins.get("ci_low") or [],
            bins.get("ci_high") or [],
            bins.get("observed") or [],
        )
        plus = [
            (num(h) - num(o)) if num(h) is not None and num(o) is not None else None
            for h, o in zip(hi, obs, strict=False)
        ]
        minus = [
            (num(o) - num(low)) if num(low) is not None and num(o) is not None else None
            for low, o in zip(lo, obs, strict=False)
        ]
        fig.add_trace(
            g.Scatter(
                x=bins["predicted"],
                y=obs,
                mode="markers",
                name="deciles (95% CI)",
                marker={"color": theme.ACCENT, "size": 7},
                error_y={"type": "data", "array": plus, "arrayminus": minus, "thickness": 1},
            )
        )
    return style(fig, CALIBRATION, **CALIBRATION_AXES)


def decision_figure(d: dict[str, Any]) -> Any:
    curves = d.get("decision_curve") or {}
    c = curves.get("all") or {}
    if not c.get("thresholds"):
        return message_figure("Decision curve undefined for this result.", DECISION)
    g = go()
    fig = g.Figure()
    t = c["thresholds"]
    for key, name, line in (
        ("model", "model", {"color": theme.ACCENT, "width": 2.5}),
        ("treat_all", "treat all", {"color": theme.CURRENT, "width": 1.5}),
        ("treat_none", "treat none", {"color": "#9e9e9e", "width": 1.5, "dash": "dash"}),
    ):
        if c.get(key):
            fig.add_trace(g.Scatter(x=t, y=c[key], mode="lines", name=name, line=line))
    for i, name in enumerate(n for n in _groups(curves) if n != "all"):
        sub = curves[name]
        if sub.get("model"):
            fig.add_trace(
                g.Scatter(
                    x=sub.get("thresholds"),
                    y=sub["model"],
                    mode="lines",
                    name=f"model, {ptext(name)}",
                    line={**_line(name, i), "dash": "dot"},
                    visible="legendonly",
                )
            )
    top = max([num(v) or 0.0 for v in c.get("model") or []] + [num(d.get("prevalence")) or 0.0])
    return style(fig, DECISION, **decision_axes(top))


def subgroup_figure(d: dict[str, Any]) -> Any:
    from plotly.subplots import make_subplots

    subgroups = ["all", *[s for s in d.get("subgroups") or []][:40]]
    panels = _forest_panels(d, subgroups)
    if not panels:
        return message_figure("No subgroup metrics to compare.", SUBGROUPS)
    ncols = min(FOREST_COLUMNS, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig = make_subplots(
        rows=nrows,
        cols=ncols,
        shared_yaxes=True,
        subplot_titles=[p[0] for p in panels],
        horizontal_spacing=0.06,
        vertical_spacing=min(0.3, 0.5 / nrows) if nrows > 1 else 0.0,
    )
    for j, (_label, sel) in enumerate(panels):
        fig.add_trace(forest_trace(sel, subgroups, "value"), row=j // ncols + 1, col=j % ncols + 1)
    per_row = max(180, 50 + 24 * len(subgroups))
    finish_forest(fig, SUBGROUPS, 60 + nrows * per_row)
    fig.update_xaxes(nticks=5)
    return fig


def _forest_panels(
    d: dict[str, Any], subgroups: list[str]
) -> list[tuple[str, dict[Any, dict[str, Any]]]]:
    """(title, rows by subgroup) of each forest metric with a value in some subgroup;
    sensitivity and specificity at the first threshold."""
    rows = _rows(d)
    first_t = (d.get("thresholds") or [None])[0]
    panels = []
    for metric in FOREST_METRICS:
        t = first_t if metric in ("sensitivity", "specificity") else None
        sel = {
            m.get("subgroup"): m
            for m in rows
            if m.get("metric") == metric
            and (m.get("threshold") == t or (t is None and m.get("threshold") is None))
        }
        if any(num((sel.get(s) or {}).get("value")) is not None for s in subgroups):
            label = metric if t is None else f"{metric} @ {format_cell(t)}"
            panels.append((label, sel))
    return panels
