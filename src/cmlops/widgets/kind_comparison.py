"""Comparison view: two models' ROC, calibration and decision curves, and differences by subgroup.

The figures read the curves the :class:`ComparisonResult` keeps (``roc``,
``calibration_curve``, ``decision_curve`` for models ``"a"`` and ``"b"``) and its rows
(the forest plot of each difference ``a - b`` with its paired interval per subgroup).
Model names are user strings: escaped in plotly text like every label.
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

ROC = "ROC curves"
CALIBRATION = "Calibration curves"
DECISION = "Decision curves"
DIFFERENCES = "Differences by subgroup"
#: metric -> short panel title of the forest plot
FOREST_METRICS = {
    "auroc": "AUROC",
    "brier": "Brier",
    "calibration_intercept": "cal. intercept",
    "calibration_slope": "cal. slope",
    "net_benefit": "net benefit",
}
COLOURS = {"a": theme.REFERENCE, "b": theme.CURRENT}


def _names(d: dict[str, Any]) -> dict[str, str]:
    names = d.get("names") or ["A", "B"]
    return {"a": str(names[0]), "b": str(names[1]) if len(names) > 1 else "B"}


def _rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in d.get("rows") or [] if isinstance(r, dict)]


def _difference_text(r: dict[str, Any]) -> str:
    text = f"difference {format_cell(r.get('difference'))}"
    if num(r.get("ci_low")) is not None and num(r.get("ci_high")) is not None:
        text += f" ({format_cell(r.get('ci_low'))} to {format_cell(r.get('ci_high'))})"
    if num(r.get("p_value")) is not None:
        text += f", p={format_cell(r.get('p_value'))}"
    return text


def refine(model: ViewModel) -> None:
    d = model.data
    rows = _rows(d)
    _verdict(model, d, rows)
    model.title = "Model comparison"
    model.facts = _facts(d)
    model.item_label = "Figure"
    metric_tables(model, d)
    failed = [r for r in rows if r.get("passed") is False]
    if failed:
        cols = ["metric", "subgroup", "threshold", "difference", "ci_low", "ci_high", "criterion"]
        fail_rows = [[r.get(c) for c in cols] for r in failed]
        table = Table(columns=cols, rows=fail_rows, key_column="metric", total_rows=len(fail_rows))
        model.lead_tables.append(("Failed acceptance criteria", table))
    builders = {
        ROC: roc_figure,
        CALIBRATION: calibration_figure,
        DECISION: decision_figure,
        DIFFERENCES: differences_figure,
    }
    set_figures(model, d, builders)


def _verdict(model: ViewModel, d: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    judged = [r for r in rows if r.get("criterion") is not None]
    failed = sum(r.get("passed") is False for r in judged)
    open_ = sum(r.get("passed") is None for r in judged)
    auc = next((r for r in rows if r.get("metric") == "auroc" and r.get("subgroup") == "all"), {})
    auc_text = (
        f"AUROC {format_cell(auc.get('value_a'))} vs {format_cell(auc.get('value_b'))}, "
        f"{_difference_text(auc)}"
        if num(auc.get("difference")) is not None
        else "AUROC difference undefined"
    )
    n = len(judged)
    texts = (
        f"All {n} criteria met · {auc_text}",
        f"{failed} of {n} criteria failed · {auc_text}",
        f"{open_} of {n} criteria not evaluable · {auc_text}" if judged else None,
        f"No acceptance criteria given · {auc_text}",
    )
    set_verdict(model, d.get("passed"), texts)


def _facts(d: dict[str, Any]) -> list[tuple[str, str]]:
    names = _names(d)
    return [
        ("model a", names["a"]),
        ("model b", names["b"]),
        ("differences", "a − b"),
        *sample_facts(d),
    ]


def roc_figure(d: dict[str, Any]) -> Any:
    curves = d.get("roc") or {}
    if not all((curves.get(k) or {}).get("fpr") for k in ("a", "b")):
        return message_figure("ROC curves were not kept (curves=False).", ROC)
    names = _names(d)
    aucs = {r.get("subgroup"): r for r in _rows(d) if r.get("metric") == "auroc"}.get("all", {})
    fig = go().Figure()
    diagonal(fig, "chance")
    for key in ("a", "b"):
        x, y = thin(curves[key].get("fpr") or [], curves[key].get("tpr") or [])
        label = f"{ptext(names[key])} (AUROC {format_cell(aucs.get(f'value_{key}'))})"
        line = {"color": COLOURS[key], "width": 2.2}
        fig.add_trace(go().Scatter(x=x, y=y, mode="lines", name=label, line=line))
    return style(fig, ROC, **ROC_AXES)


def calibration_figure(d: dict[str, Any]) -> Any:
    curves = d.get("calibration_curve") or {}
    if not all((curves.get(k) or {}).get("predicted") for k in ("a", "b")):
        why = "raw scores are not probabilities" if d.get("score_scale") == "raw" else "not kept"
        return message_figure(f"Calibration curves unavailable ({why}).", CALIBRATION)
    names = _names(d)
    fig = go().Figure()
    diagonal(fig, "ideal")
    for key in ("a", "b"):
        x, y = thin(curves[key].get("predicted") or [], curves[key].get("observed") or [])
        line = {"color": COLOURS[key], "width": 2.2}
        name = f"{ptext(names[key])} (lowess)"
        fig.add_trace(go().Scatter(x=x, y=y, mode="lines", name=name, line=line))
    return style(fig, CALIBRATION, **CALIBRATION_AXES)


def decision_figure(d: dict[str, Any]) -> Any:
    c = d.get("decision_curve") or {}
    if not c.get("thresholds"):
        return message_figure("Decision curves unavailable for this result.", DECISION)
    names = _names(d)
    fig = go().Figure()
    lines = (
        ("a", ptext(names["a"]), {"color": COLOURS["a"], "width": 2.2}),
        ("b", ptext(names["b"]), {"color": COLOURS["b"], "width": 2.2}),
        ("treat_all", "treat all", {"color": "#616161", "width": 1.2}),
        ("treat_none", "treat none", {"color": "#9e9e9e", "width": 1.2, "dash": "dash"}),
    )
    for key, name, line in lines:
        if c.get(key):
            trace = go().Scatter(x=c["thresholds"], y=c[key], mode="lines", name=name, line=line)
            fig.add_trace(trace)
    for t in d.get("thresholds") or []:
        fig.add_vline(x=t, line={"color": theme.BAD, "width": 1, "dash": "dot"})
    top = max(
        [num(v) or 0.0 for k in ("a", "b") for v in c.get(k) or []]
        + [num(d.get("prevalence")) or 0.0]
    )
    return style(fig, DECISION, **decision_axes(top))


def _panels(d: dict[str, Any]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    rows = _rows(d)
    first_t = (d.get("thresholds") or [None])[0]
    panels = []
    for metric in FOREST_METRICS:
        t = first_t if metric == "net_benefit" else None
        sel = {
            r.get("subgroup"): r
            for r in rows
            if r.get("metric") == metric and r.get("threshold") == t
        }
        if any(num(r.get("difference")) is not None for r in sel.values()):
            title = FOREST_METRICS[metric]
            panels.append((title if t is None else f"{title} @ {format_cell(t)}", sel))
    return panels


def differences_figure(d: dict[str, Any]) -> Any:
    from plotly.subplots import make_subplots

    subgroups = ["all", *list(d.get("subgroups") or [])[:40]]
    panels = _panels(d)
    if not panels:
        return message_figure("No differences to show.", DIFFERENCES)
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[label for label, _ in panels],
        horizontal_spacing=0.03,
    )
    for j, (_label, sel) in enumerate(panels, start=1):
        fig.add_trace(forest_trace(sel, subgroups, "difference"), row=1, col=j)
        fig.add_vline(x=0, line={"color": "#9e9e9e", "width": 1, "dash": "dash"}, row=1, col=j)
    names = _names(d)
    title = f"{DIFFERENCES} (a − b, {ptext(names['a'])} − {ptext(names['b'])})"
    return finish_forest(fig, title, max(260, 60 + 26 * len(subgroups)))
