"""Drift view: verdict over columns, the per-column table, and per-column distribution plots.

Numeric columns: overlaid reference/current density histograms and binned ECDFs from
the shared-edge bin counts the result keeps (``details["histogram"] = {"edges",
"reference", "current"}``); a result without them (an older stored dict) gets box
plots from its quartiles and a five-point quantile ECDF. Categorical columns:
side-by-side bars of category shares from ``details["categories"]`` (the most
frequent categories; capped, the rest folded into one bar, and said so).
"""

from __future__ import annotations

from typing import Any

from cmlops.widgets import theme
from cmlops.widgets.figures import (
    cap_categories,
    go,
    message_figure,
    num,
    ptext,
    style,
)
from cmlops.widgets.model import ViewModel
from cmlops.widgets.table import Table, format_cell, plain

#: ``warnings`` are listed above the table, column by column
HIDDEN = ["correction", "effect_size_name", "warnings"]
#: the same for every column of an unstratified result: shown once, in the facts
UNSTRATIFIED_HIDDEN = ["n_reference", "n_current"]


def _hidden(d: dict[str, Any]) -> list[str]:
    bounds = any(
        isinstance(c, dict) and c.get("error_bound") for c in d.get("columns") or []
    )  # the error bound and uncertainty only mean something for sketch (Spark) statistics
    sketch = [] if bounds else ["error_bound", "uncertain"]
    return HIDDEN + sketch + ([] if d.get("by") else UNSTRATIFIED_HIDDEN)


def _pct(x: Any) -> str:
    v = num(x)
    return "—" if v is None else f"{100 * v:.0f}%"


def refine(model: ViewModel) -> None:
    d = model.data
    columns = [c for c in d.get("columns") or [] if isinstance(c, dict)]
    _verdict(model, d)
    model.facts = _facts(d, columns)
    for c in columns:
        model.warnings.extend(f"{c.get('column')}: {w}" for w in c.get("warnings") or [])
    model.item_label = "Column"
    model.title = "Data drift"
    table = model.table
    model.table = Table(
        columns=table.columns,
        rows=_tested_words(table, _ordered(table)),
        key_column="column" if "column" in table.columns else table.key_column,
        total_rows=table.total_rows,
        hidden=[c for c in _hidden(d) if c in table.columns],
    )
    _items(model, columns)
    if d.get("strata"):
        model.extra_tables.append((f"Strata by {d.get('by')}", _strata_table(d)))


def _verdict(model: ViewModel, d: dict[str, Any]) -> None:
    """The verdict, status and badge over the tested columns (kept when the counts are missing)."""
    n_tested = d.get("n_tested")
    n_drifted = d.get("n_drifted")
    dataset = d.get("dataset_drift")
    if n_tested == 0:
        model.verdict = "No column could be tested: drift is not evaluated"
        model.status, model.badge = "warn", "not evaluated"
    elif n_tested is not None and n_drifted is not None:
        head = "Dataset drift" if dataset else "No dataset drift"
        model.verdict = (
            f"{head}: {n_drifted} of {n_tested} tested columns drifted "
            f"({_pct(d.get('share_drifted'))}; dataset threshold {_pct(d.get('drift_share'))})"
        )
        if d.get("uncertain"):
            model.verdict += "; uncertain within the sketch error bounds (use exact=True)"
        model.status = "bad" if dataset else ("warn" if n_drifted else "good")
        model.badge = "dataset drift" if dataset else ("columns drifted" if n_drifted else "stable")


def _facts(d: dict[str, Any], columns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Settings, sizes, the engine (Spark's sketch parameters) and the skipped count."""
    facts = [
        ("correction", str(d.get("correction", "—"))),
        ("alpha", format_cell(d.get("alpha"))),
        ("dataset drift share", _pct(d.get("drift_share"))),
        ("reference rows", format_cell(d.get("n_reference"))),
        ("current rows", format_cell(d.get("n_current"))),
    ]
    if d.get("by"):
        facts.append(("stratified by", str(d["by"])))
    engine = (d.get("settings") or {}).get("engine")
    if isinstance(engine, dict):
        facts.append(("computed by", f"Spark {engine.get('spark_version', '')}"))
        if not (d.get("settings") or {}).get("exact"):
            rank = (engine.get("rank_error") or {}).get("single_sided")
            sketch = f"KLL sketches, k={engine.get('sketch_k')}, "
            facts.append(("numeric statistics", f"{sketch}rank error {format_cell(rank)} (99 %)"))
    skipped = [c for c in columns if c.get("status") == "skipped"]
    if skipped:
        facts.append(("skipped columns", str(len(skipped))))
    return facts


def _items(model: ViewModel, columns: list[dict[str, Any]]) -> None:
    """Columns to plot: drifted first, then by adjusted p-value and effect size."""
    by_name = {str(c.get("column")): c for c in columns}
    order = sorted(
        columns,
        key=lambda c: (
            not c.get("drifted"),
            c.get("status") == "skipped",
            num(c.get("p_value_adjusted")) if num(c.get("p_value_adjusted")) is not None else 2.0,
            -(num(c.get("effect_size")) or 0.0),
        ),
    )
    model.items = [str(c.get("column")) for c in order]
    model.static_items = [
        str(c.get("column")) for c in order if c.get("status") != "skipped"
    ] or model.items
    model.figure_builder = lambda item: column_figure(by_name.get(item), item)


def _strata_table(d: dict[str, Any]) -> Table:
    """One row per stratum tested, and one without figures per stratum skipped."""
    rows = [
        [
            name,
            s.get("n_tested"),
            s.get("n_drifted"),
            s.get("share_drifted"),
            s.get("dataset_drift"),
        ]
        for name, s in (d.get("strata") or {}).items()
    ]
    for skip in d.get("strata_skipped") or []:
        rows.append([skip.get("stratum", skip.get("name")), None, None, None, None])
    return Table(
        columns=["stratum", "n_tested", "n_drifted", "share_drifted", "drifted"],
        rows=rows,
        key_column="stratum",
        total_rows=len(rows),
    )


def _tested_words(table: Table, rows: list[list[Any]]) -> list[list[Any]]:
    """The per-column ``status`` says whether a column was tested, not a verdict:
    "ok" reads as a green pass next to a red "drifted", so it is shown as "tested"."""
    if "status" not in table.columns:
        return rows
    i = table.columns.index("status")
    return [[*r[:i], "tested" if r[i] == "ok" else r[i], *r[i + 1 :]] for r in rows]


def _ordered(table: Table) -> list[list[Any]]:
    """Overall rows first, then drifted before not, then smallest adjusted p-value."""
    cols = table.columns

    def val(row: list[Any], name: str) -> Any:
        return plain(row[cols.index(name)]) if name in cols else None

    def key(row: list[Any]) -> tuple[Any, ...]:
        p = num(val(row, "p_value_adjusted"))
        return (
            val(row, "stratum") is not None,
            not bool(val(row, "drifted")),
            2.0 if p is None else p,
            -(num(val(row, "effect_size")) or 0.0),
        )

    return sorted(table.rows, key=key)


def column_figure(col: dict[str, Any] | None, name: str) -> Any:
    """The distribution figure of one column of a drift result."""
    if col is None:
        return message_figure(f"No drift record for column {name}.")
    kind = col.get("kind")
    title = f"{ptext(name)} — {ptext(col.get('test', ''))}"
    if col.get("status") == "skipped":
        why = "; ".join(col.get("warnings") or []) or "column was skipped"
        return message_figure(f"Not tested: {why}", title)
    if kind in ("categorical", "binary") or col.get("reference", {}).get("top"):
        return _categorical_figure(col, title)
    return _numeric_figure(col, title)


def _categorical_figure(col: dict[str, Any], title: str) -> Any:
    ref, cur = col.get("reference") or {}, col.get("current") or {}
    hist = (col.get("details") or {}).get("categories")
    if isinstance(hist, dict) and "labels" in hist:
        labels = list(hist.get("labels") or [])
        rc, cc = list(hist.get("reference") or []), list(hist.get("current") or [])
    else:
        counts: dict[str, list[float]] = {}
        for side, summ in ((0, ref), (1, cur)):
            for entry in summ.get("top") or []:
                label = str(entry.get("value"))
                counts.setdefault(label, [0.0, 0.0])[side] = float(entry.get("count") or 0)
        labels = list(counts)
        rc = [counts[k][0] for k in labels]
        cc = [counts[k][1] for k in labels]
    if not labels:
        return message_figure("No category counts in this result.", title)
    n_ref = max(1.0, (num(ref.get("n")) or 0) - (num(ref.get("n_missing")) or 0))
    n_cur = max(1.0, (num(cur.get("n")) or 0) - (num(cur.get("n_missing")) or 0))
    total = max(int(num(ref.get("n_categories")) or 0), int(num(cur.get("n_categories")) or 0))
    truncated = bool(isinstance(hist, dict) and hist.get("truncated")) or total > len(labels)
    shown, (rs, cs), folded = cap_categories(labels, rc, cc)
    if folded or truncated:
        # the last bar is everything not drawn, from the sample sizes, not only the
        # categories whose counts the result kept
        kept = len(shown) - 1 if folded else len(shown)
        rest_r = max(0.0, n_ref - sum(rs[:kept]))
        rest_c = max(0.0, n_cur - sum(cs[:kept]))
        others = f"{total - kept:,}" if total > kept else "remaining"
        shown, rs, cs = shown[:kept], rs[:kept], cs[:kept]
        if rest_r > 0 or rest_c > 0:
            shown.append(f"other ({others} categories)")
            rs.append(rest_r)
            cs.append(rest_c)
    shown = [ptext(label) for label in shown]
    rs = [v / n_ref for v in rs]
    cs = [v / n_cur for v in cs]
    # categories on the y axis: long labels then never collide with each other or
    # with the value axis, however many there are (rotated x labels do)
    g = go()
    fig = g.Figure(
        [
            g.Bar(name="reference", y=shown, x=rs, orientation="h", marker_color=theme.REFERENCE),
            g.Bar(name="current", y=shown, x=cs, orientation="h", marker_color=theme.CURRENT),
        ]
    )
    axis_title = "share of non-missing"
    if folded or truncated:
        drawn = len(shown) - (1 if shown and shown[-1].startswith("other (") else 0)
        of = f" of {total:,}" if total else ""
        axis_title += f"<br>{drawn} most frequent{of} categories shown; the rest summed as other"
    style(
        fig,
        title,
        barmode="group",
        height=max(220, 90 + 30 * len(shown)),
        xaxis={"title": {"text": axis_title}, "tickformat": ".0%"},
        yaxis={"type": "category", "autorange": "reversed"},
    )
    return fig


def _numeric_figure(col: dict[str, Any], title: str) -> Any:
    details = col.get("details") or {}
    hist = details.get("histogram")
    if isinstance(hist, dict) and hist.get("edges"):
        return _histogram_figure(
            hist, f"{title} · effect size {format_cell(col.get('effect_size'))}"
        )
    return _quantile_figure(col, title)


def _histogram_figure(hist: dict[str, Any], title: str) -> Any:
    from plotly.subplots import make_subplots

    edges = [num(e) for e in hist["edges"]]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("histogram (density)", "binned ECDF"))
    for side, color in (("reference", theme.REFERENCE), ("current", theme.CURRENT)):
        counts = [num(c) or 0.0 for c in hist.get(side) or []]
        total = sum(counts) or 1.0
        widths = [
            (edges[i + 1] - edges[i]) if edges[i] is not None and edges[i + 1] is not None else 1
            for i in range(len(counts))
        ]
        mids = [
            (edges[i] + edges[i + 1]) / 2
            if edges[i] is not None and edges[i + 1] is not None
            else None
            for i in range(len(counts))
        ]
        dens = [c / total / (w or 1) for c, w in zip(counts, widths, strict=False)]
        fig.add_trace(
            go().Bar(
                name=side,
                x=mids,
                y=dens,
                width=widths,
                marker_color=color,
                opacity=0.55,
                legendgroup=side,
            ),
            row=1,
            col=1,
        )
        # binned ECDF: 0 at the first edge, then the cumulative share at each right edge,
        # joined linearly (values inside a bin are not known)
        cum, acc = [0.0], 0.0
        for c in counts:
            acc += c
            cum.append(acc / total)
        fig.add_trace(
            go().Scatter(
                name=side,
                x=edges[: len(cum)],
                y=cum,
                mode="lines",
                line={"color": color},
                legendgroup=side,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    style(fig, title, barmode="overlay", yaxis={"title": {"text": "density"}})
    fig.update_annotations(font_size=11)
    return fig


def _quantile_figure(col: dict[str, Any], title: str) -> Any:
    """Box plots from stored quartiles plus a five-point quantile ECDF."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        subplot_titles=("quartiles (box), mean ± sd", "quantile ECDF (min, q25, median, q75, max)"),
    )
    drawn = False
    for side, color in (("reference", theme.REFERENCE), ("current", theme.CURRENT)):
        s = col.get(side) or {}
        q = [num(s.get(k)) for k in ("min", "q25", "median", "q75", "max")]
        if any(v is None for v in q):
            continue
        drawn = True
        box: dict[str, Any] = {
            "name": side,
            "q1": [q[1]],
            "median": [q[2]],
            "q3": [q[3]],
            "lowerfence": [q[0]],
            "upperfence": [q[4]],
            "x": [side],
            "marker_color": color,
            "legendgroup": side,
            "boxpoints": False,
        }
        if num(s.get("mean")) is not None:
            box["mean"] = [num(s.get("mean"))]
            if num(s.get("std")) is not None:
                box["sd"] = [num(s.get("std"))]
        fig.add_trace(go().Box(**box), row=1, col=1)
        fig.add_trace(
            go().Scatter(
                name=side,
                x=q,
                y=[0, 0.25, 0.5, 0.75, 1.0],
                mode="lines+markers",
                line={"color": color},
                legendgroup=side,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    if not drawn:
        return message_figure("No finite values summarised for this column.", title)
    effect = format_cell(col.get("effect_size"))
    style(fig, f"{title} · effect size {effect}")
    fig.update_annotations(font_size=11)
    return fig
