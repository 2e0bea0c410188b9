"""Shared plotly building blocks: a light JupyterLab-like template, empty/message figures, caps.

Figures are built as plain ``plotly.graph_objects.Figure`` so the same object goes
into a ``FigureWidget`` (live) or into static HTML (JSON + plotly.js). Plotly is
imported here, on first use, never when ``cmlops.widgets`` is imported.
"""

from __future__ import annotations

import html
from typing import Any

from cmlops.widgets import theme

#: most categories drawn as bars; the rest are summed into one "other" bar and said so
MAX_CATEGORIES = 30
#: most points of a curve sent to the browser (curves are thinned evenly beyond)
MAX_POINTS = 2000


def ptext(value: Any) -> str:
    """A user string for plotly text (titles, legend, category ticks, hover).

    Plotly reads a subset of HTML in text (``<b>``, ``<br>``, ``<a>``) and decodes
    entities, so user strings are entity-escaped: they show literally, never as markup.
    """
    return html.escape(str(value), quote=False)


def go() -> Any:
    import plotly.graph_objects as graph_objects

    return graph_objects


def base_layout(title: str = "", **extra: Any) -> dict[str, Any]:
    """Layout shared by every cmlops figure: small margins, system font, light grid."""
    grid = {"gridcolor": "#eeeeee", "zerolinecolor": "#bdbdbd", "linecolor": "#bdbdbd"}
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 13}, "x": 0.01, "xanchor": "left"},
        "font": {"family": theme.FONT, "size": 11, "color": theme.TEXT},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 56, "r": 16, "t": 40 if title else 16, "b": 44},
        "height": 320,
        # right of the plot, where plotly reserves its own margin: a legend below the
        # plot (at a fixed paper fraction) lands on the x-axis title when ticks are tall
        "legend": {
            "orientation": "v",
            "x": 1.02,
            "xanchor": "left",
            "y": 1,
            "yanchor": "top",
            "font": {"size": 11},
        },
        "xaxis": dict(grid, showline=True, automargin=True),
        "yaxis": dict(grid, showline=True, automargin=True),
        "colorway": theme.PALETTE,
        "hoverlabel": {"font": {"family": theme.FONT}},
        "template": "none",
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


#: layout of a ROC figure (evaluation and comparison)
ROC_AXES: dict[str, Any] = {
    "xaxis": {"title": {"text": "1 − specificity"}, "range": [0, 1]},
    "yaxis": {"title": {"text": "sensitivity"}, "range": [0, 1.02]},
    "height": 360,
}
#: layout of a calibration figure (evaluation and comparison)
CALIBRATION_AXES: dict[str, Any] = {
    "xaxis": {"title": {"text": "predicted risk"}, "range": [0, 1]},
    "yaxis": {"title": {"text": "observed risk"}, "range": [0, 1.02]},
    "height": 360,
}


def decision_axes(top: float) -> dict[str, Any]:
    """Layout of a decision-curve figure whose highest net benefit is ``top``."""
    return {
        "xaxis": {"title": {"text": "threshold probability"}},
        "yaxis": {"title": {"text": "net benefit"}, "range": [-0.05, top * 1.1 + 0.01]},
        "height": 360,
    }


def style(fig: Any, title: str = "", **extra: Any) -> Any:
    """Apply :func:`base_layout` and the light grid to every axis (subplots included)."""
    fig.update_layout(base_layout(title, **extra))
    axes = {"gridcolor": "#eeeeee", "zerolinecolor": "#bdbdbd", "linecolor": "#bdbdbd"}
    fig.update_xaxes(showline=True, automargin=True, **axes)
    fig.update_yaxes(showline=True, automargin=True, **axes)
    return fig


def message_figure(message: str, title: str = "") -> Any:
    """An empty figure that says why there is nothing to plot (instead of raising).

    ``message`` is raw text (escaped here); ``title`` must already be plotly-safe.
    """
    fig = go().Figure()
    fig.update_layout(
        base_layout(
            title,
            height=180,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": ptext(message),
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "showarrow": False,
                    "font": {"size": 12, "color": theme.MUTED},
                }
            ],
        )
    )
    return fig


def thin(xs: list[Any], ys: list[Any], limit: int = MAX_POINTS) -> tuple[list[Any], list[Any]]:
    """Keep at most ``limit`` evenly spaced points (first and last kept)."""
    n = min(len(xs), len(ys))
    if n <= limit:
        return list(xs[:n]), list(ys[:n])
    step = (n - 1) / (limit - 1)
    idx = sorted({round(i * step) for i in range(limit)})
    return [xs[i] for i in idx], [ys[i] for i in idx]


def num(value: Any) -> float | None:
    """A finite float or ``None`` (for None, NaN, inf, strings)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and out not in (float("inf"), float("-inf")) else None


def cap_categories(
    labels: list[Any], *series: list[float], limit: int = MAX_CATEGORIES
) -> tuple[list[str], list[list[float]], int]:
    """Keep the ``limit`` largest categories (by the summed series); sum the rest as "other".

    Returns the labels, the capped series and how many categories were folded.
    """
    n = len(labels)
    totals = [sum(abs(num(s[i]) or 0.0) for s in series) for i in range(n)]
    order = sorted(range(n), key=lambda i: -totals[i])
    keep = order[:limit]
    folded = order[limit:]
    out_labels = [str(labels[i]) for i in keep]
    out_series = [[num(s[i]) or 0.0 for i in keep] for s in series]
    if folded:
        out_labels.append(f"other ({len(folded):,} categories)")
        for s, dst in zip(series, out_series, strict=True):
            dst.append(sum(num(s[i]) or 0.0 for i in folded))
    return out_labels, out_series, len(folded)


def note_annotation(text: str) -> dict[str, Any]:
    """A small grey note under the plot area (for caps and omissions)."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 1.02,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 10, "color": theme.MUTED},
    }
