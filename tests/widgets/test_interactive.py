"""The ipywidgets view builds in Python, sorts for real, and draws the selected column."""

from __future__ import annotations

import ipywidgets as w
import plotly.graph_objects as go
import pytest

from cmlops.widgets import build_view
from cmlops.widgets.display import WIDGET_MIMETYPE, mimebundle

from .conftest import HOSTILE, SCRIPT_BREAK


def _p_values(result):
    return {c.column: c.p_value for c in result.columns}


def test_drift_view_sort_by_p_value_and_select_column(drift_result):
    view = build_view(drift_result)
    assert isinstance(view.widget, w.VBox)
    assert isinstance(view.figure, go.FigureWidget)
    # the default selection is the most drifted column
    assert view.dropdown.value == "age"
    p = _p_values(drift_result)
    assert len(set(p.values())) >= 3  # enough distinct p-values for the order to mean something
    # clicking the header button sorts ascending; clicking again reverses
    view.table.buttons["p_value"].click()
    ascending = [p[k] for k in view.table_keys]
    assert ascending == sorted(ascending)
    assert view.table_keys[0] == "age"
    assert view.table.buttons["p_value"].description == "p_value ▲"
    view.table.buttons["p_value"].click()
    descending = [p[k] for k in view.table_keys]
    assert descending == sorted(ascending, reverse=True)
    assert view.table_keys[-1] == "age"
    assert "▼" in view.table.buttons["p_value"].description
    # the rendered body follows the sort order: age (smallest p) is now the last row
    rows = view.table.body.value.split("<tr")[1:]
    assert ">age<" in rows[-1]
    # sorting by a text column
    view.sort_by("column", ascending=True)
    assert view.table_keys == sorted(p, key=str.lower)

    # selecting a categorical column draws grouped bars of both samples
    view.dropdown.value = HOSTILE
    assert [t.type for t in view.figure.data] == ["bar", "bar"]
    assert [t.name for t in view.figure.data] == ["reference", "current"]
    assert view.figure.data[0].orientation == "h"  # categories on the y axis
    assert "&lt;img src=x onerror=alert(1)&gt;" in view.figure.data[0].y
    assert 'class="cm-selected"' in view.table.body.value

    # a numeric column: overlaid density histograms and ECDFs of both samples
    view.select(SCRIPT_BREAK)
    assert view.dropdown.value == SCRIPT_BREAK
    traces = view.figure.data
    assert [t.type for t in traces] == ["bar", "scatter", "bar", "scatter"]
    assert [t.name for t in traces] == ["reference", "reference", "current", "current"]
    for bars, ecdf in ((traces[0], traces[1]), (traces[2], traces[3])):
        area = sum(h * w for h, w in zip(bars.y, bars.width, strict=True))
        assert abs(area - 1.0) < 1e-9
        assert abs(ecdf.y[-1] - 1.0) < 1e-12
        assert list(ecdf.y) == sorted(ecdf.y)


def test_numeric_column_without_histogram_falls_back_to_quartiles(drift_result):
    import copy

    result = copy.deepcopy(drift_result)
    result["age"].details.pop("histogram")
    view = build_view(result)
    view.select("age")
    assert sorted(t.type for t in view.figure.data) == ["box", "box", "scatter", "scatter"]


@pytest.mark.req("REQ-SEC-003")
def test_hostile_names_stay_text_in_widgets(drift_result):
    view = build_view(drift_result)
    assert HOSTILE in view.dropdown.options  # Dropdown options render as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in view.table.body.value
    assert HOSTILE not in view.table.body.value
    assert HOSTILE not in view.header.value


def test_evaluation_view_lists_figures_and_switches(evaluation_result):
    view = build_view(evaluation_result)
    assert list(view.dropdown.options) == [
        "ROC curve",
        "Calibration curve",
        "Decision curve",
        "Subgroup metrics",
    ]
    names = [t.name for t in view.figure.data]
    assert any(n.startswith("all (AUROC") for n in names)
    view.dropdown.value = "Decision curve"
    assert [t.name for t in view.figure.data][:3] == ["model", "treat all", "treat none"]
    view.dropdown.value = "Subgroup metrics"
    assert view.figure.data[0].error_x.array is not None


def test_paging_of_a_long_table():
    import pandas as pd

    from cmlops.stats.drift import drift

    cols = {f"x{i:03d}": range(40) for i in range(120)}
    ref = pd.DataFrame(cols)
    cur = pd.DataFrame({k: [v + 1 for v in vs] for k, vs in cols.items()})
    view = build_view(drift(ref, cur, correction="none"))
    table = view.table
    assert len(table.rows) == 120
    assert table.body.value.count("<tr") == 50
    assert table.prev.disabled and not table.next.disabled
    table.next.click()
    table.next.click()
    assert table.page == 2
    assert table.body.value.count("<tr") == 20
    assert table.next.disabled
    table.sort_by("column", ascending=False)
    assert table.page == 0
    assert table.keys[0] == "x119"


def test_widget_bundle_carries_static_fallback(drift_result):
    bundle = mimebundle(drift_result, mode="widget")
    assert set(bundle) == {WIDGET_MIMETYPE, "text/html", "text/plain"}
    assert bundle[WIDGET_MIMETYPE]["model_id"]
    assert "cmlops-result" in bundle["text/html"]
    assert 'class="cm-plot"' not in bundle["text/html"]  # plots live in the widget
    assert "Figures are drawn in the live view" in bundle["text/html"]
    static = mimebundle(drift_result, mode="static")
    assert set(static) == {"text/html", "text/plain"}
    assert 'class="cm-plot"' in static["text/html"]
