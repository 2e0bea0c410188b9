"""The figure of the live view: a plotly figure that follows the width of its panel.

Why not a plotly ``FigureWidget``: its anywidget front end draws once at the width
the output had then (700 px when not yet laid out) and never again — opening the
sidebar, splitting the notebook or showing the output in a narrow panel leaves the
figure cut off or floating. The figure is instead published into an ipywidgets
``Output`` as plotly's own mime type (``application/vnd.plotly.v1+json``) with
``responsive`` on and no fixed width: JupyterLab's plotly renderer (shipped with
plotly) redraws it whenever JupyterLab resizes the output, and VS Code renders the
same mime type. Zoom, hover and legend toggles work as before.
"""

from __future__ import annotations

import json
from typing import Any

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
#: plotly.js config of live figures: follow the container, no logo, no lasso tools
CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


def figure_bundle(fig: Any) -> dict[str, Any]:
    """The display bundle of ``fig``: plotly's mime type (width follows the panel) and text."""
    spec = json.loads(fig.to_json())  # plotly's own encoder: numpy arrays, dates, NaN
    layout = spec.setdefault("layout", {})
    layout.pop("width", None)
    layout["autosize"] = True
    spec["config"] = dict(CONFIG)
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    return {PLOTLY_MIMETYPE: spec, "text/plain": f"<plotly figure{': ' + text if text else ''}>"}


def figure_output(fig: Any) -> Any:
    """An ipywidgets ``Output`` showing ``fig`` at the full width of its panel."""
    import ipywidgets as w

    out = w.Output(layout=w.Layout(width="100%", min_height="330px"))
    show_figure(out, fig)
    return out


def show_figure(out: Any, fig: Any) -> None:
    """Replace what ``out`` shows by ``fig`` (works from widget callbacks, outside a cell)."""
    out.outputs = ({"output_type": "display_data", "data": figure_bundle(fig), "metadata": {}},)
