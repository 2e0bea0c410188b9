"""Monitoring view: alerts verdict, windows table, alerts table, each metric over windows.

A metric figure shows its value per window (AUROC with its CI band), the reference
value, the pre-specified trigger (a floor line or an allowed band) and a red mark on
every window where that trigger fired an alert.
"""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import go, message_figure, num, ptext, style
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell

#: metric -> (label, rules whose alerts are marked on it)
METRICS = {
    "auroc": ("AUROC (95% CI)", ("auroc_ci_low_below",)),
    "calibration_slope": ("Calibration slope", ("calibration_slope_outside",)),
    "oe_ratio": ("Observed / expected", ("oe_ratio_outside",)),
    "brier": ("Brier score", ("brier_rise_above",)),
    "n_drifted": ("Drifted features", ("feature_drift", "dataset_drift")),
    "f1": ("F1", ("f1_drop_above",)),
}


def refine(model: ViewModel) -> None:
    d = model.data
    windows = [w for w in d.get("windows") or [] if isinstance(w, dict)]
    alerts = [a for a in d.get("alerts") or [] if isinstance(a, dict)]
    fired = sorted({str(a.get("window")) for a in alerts})
    model.title = "Monitoring"
    model.verdict = (
        f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} in {len(fired)} of "
        f"{len(windows)} windows"
    )
    model.status = "bad" if alerts else "good"
    model.badge = "alert" if alerts else "ok"
    settings = d.get("settings") or {}
    ref = d.get("reference") or {}
    model.facts = [
        ("window", str(settings.get("window", "—"))),
        ("time column", str(settings.get("time", "—"))),
        ("reference", f"{ref.get('source', '—')} (n={format_cell(ref.get('n'))})"),
    ]
    rules = [str(t.get("description") or t.get("rule")) for t in d.get("triggers") or []]
    if rules:
        model.facts.append(("rules", "; ".join(rules)))
    for w in windows:
        model.warnings.extend(f"window {w.get('window')}: {x}" for x in w.get("warnings") or [])
    model.warnings.extend(str(x) for x in ref.get("warnings") or [])
    model.table_title = "Windows"
    model.table = Table(
        columns=model.table.columns,
        rows=model.table.rows,
        key_column="window" if "window" in model.table.columns else model.table.key_column,
        total_rows=model.table.total_rows,
    )
    if alerts:
        cols = ["window", "rule", "column", "observed", "threshold", "message"]
        rows = [[a.get(c) for c in cols] for a in alerts]
        model.lead_tables.append(
            (f"Alerts ({len(alerts)})", Table(columns=cols, rows=rows, total_rows=len(rows)))
        )
    present = [m for m in METRICS if any(num(w.get(m)) is not None for w in windows)]
    with_alerts = [m for m in present if any(a.get("rule") in METRICS[m][1] for a in alerts)]
    model.items = with_alerts + [m for m in present if m not in with_alerts]
    model.static_items = list(model.items)
    model.item_label = "Metric"
    model.figure_builder = lambda item: metric_figure(d, windows, alerts, item)


def _label(window: Any) -> str:
    """A window label for the x axis: ISO midnight timestamps shortened to the date."""
    text = str(window)
    return ptext(text[:-9] if text.endswith("T00:00:00") else text)


def _bounds(d: dict[str, Any], metric: str) -> tuple[float | None, float | None, str]:
    """(low, high, kind) of the trigger on ``metric``: kind 'floor', 'band' or 'ceiling'."""
    ref = d.get("reference") or {}
    for t in d.get("triggers") or []:
        rule = t.get("rule")
        if rule not in METRICS.get(metric, ("", ()))[1]:
            continue
        if rule == "auroc_ci_low_below":
            return num(t.get("low")), None, "floor"
        if rule in ("calibration_slope_outside", "oe_ratio_outside"):
            return num(t.get("low")), num(t.get("high")), "band"
        if rule == "brier_rise_above" and num(ref.get("brier")) is not None:
            return None, num(ref.get("brier")) + (num(t.get("low")) or 0.0), "ceiling"
    return None, None, ""


def metric_figure(
    d: dict[str, Any], windows: list[dict[str, Any]], alerts: list[dict[str, Any]], metric: str
) -> Any:
    label, rules = METRICS.get(metric, (metric, ()))
    xs = [_label(w.get("window")) for w in windows]
    ys = [num(w.get(metric)) for w in windows]
    if not any(v is not None for v in ys):
        return message_figure(f"{label}: no value in any window.", ptext(label))
    fig = go().Figure()
    _add_series(fig, windows, metric, label, xs, ys)
    _add_rule_lines(fig, d, metric)
    hits = [a for a in alerts if a.get("rule") in rules]
    if hits:
        fig.add_trace(_alert_marks(windows, hits, metric, xs))
    return style(fig, ptext(label), xaxis={"type": "category", "title": {"text": "window"}})


def _add_series(
    fig: Any, windows: list[dict[str, Any]], metric: str, label: str, xs: list, ys: list
) -> None:
    """The metric by window (bars for the drifted-feature count), AUROC with its CI band."""
    g = go()
    if metric == "auroc":
        lo = [num(w.get("auroc_ci_low")) for w in windows]
        hi = [num(w.get("auroc_ci_high")) for w in windows]
        fig.add_trace(
            g.Scatter(
                x=xs, y=hi, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
            )
        )
        fig.add_trace(
            g.Scatter(
                x=xs,
                y=lo,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(25,118,210,0.15)",
                name="95% CI",
            )
        )
    if metric == "n_drifted":
        fig.add_trace(
            g.Bar(
                x=xs,
                y=ys,
                name="drifted features",
                marker_color=theme.ACCENT,
                hovertext=[ptext(", ".join(w.get("drifted_columns") or [])) for w in windows],
            )
        )
    else:
        fig.add_trace(
            g.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                name=label,
                line={"color": theme.ACCENT, "width": 2},
            )
        )


def _add_rule_lines(fig: Any, d: dict[str, Any], metric: str) -> None:
    """The trigger rule's allowed band, floor or ceiling, and the reference value."""
    low, high, kind = _bounds(d, metric)
    if kind == "band" and low is not None and high is not None:
        fig.add_hrect(
            y0=low,
            y1=high,
            fillcolor="rgba(46,125,50,0.10)",
            line_width=0,
            annotation_text="allowed band",
            annotation_position="top left",
        )
    if kind == "floor" and low is not None:
        fig.add_hline(
            y=low,
            line={"color": theme.BAD, "dash": "dash", "width": 1.5},
            annotation_text=f"floor for CI lower bound {format_cell(low)}",
        )
    if kind == "ceiling" and high is not None:
        fig.add_hline(
            y=high,
            line={"color": theme.BAD, "dash": "dash", "width": 1.5},
            annotation_text=f"alert above {format_cell(high)}",
        )
    ref_value = num((d.get("reference") or {}).get(metric))
    if ref_value is not None:
        fig.add_hline(
            y=ref_value,
            line={"color": "#9e9e9e", "dash": "dot", "width": 1},
            annotation_text="reference",
            annotation_position="bottom right",
        )


def _alert_marks(
    windows: list[dict[str, Any]], hits: list[dict[str, Any]], metric: str, xs: list
) -> Any:
    """A cross on each window with an alert of this metric's rules, its messages on hover."""
    by_window = {_label(w.get("window")): num(w.get(metric)) for w in windows}
    ax = sorted(
        {_label(a.get("window")) for a in hits if _label(a.get("window")) in by_window},
        key=xs.index,
    )
    return go().Scatter(
        x=ax,
        y=[by_window.get(x) for x in ax],
        mode="markers",
        name="alert",
        marker={"color": theme.BAD, "size": 13, "symbol": "x"},
        hovertext=[
            ptext("; ".join(str(a.get("message")) for a in hits if _label(a.get("window")) == x))
            for x in ax
        ],
    )
