"""The ipywidgets view builds in Python, sorts for real, and draws the selected column."""

from __future__ import annotations

import ipywidgets as w
import plotly.graph_objects as go
import pytest

from cmlops.widgets import build_view
from cmlops.widgets.display import WIDGET_MIMETYPE, mimebundle
from cmlops.widgets.table import plain

from .conftest import HOSTILE, SCRIPT_BREAK


def _p_values(result):
    return {c.column: c.p_value for c in result.columns}


def test_drift_view_sort_by_p_value_and_select_column(drift_result):
    view = build_view(drift_result)
    assert isinstance(view.widget, w.VBox)
    assert isinstance(view.figure, go.Figure)
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


def test_every_table_of_every_view_has_sort_buttons(
    drift_result, evaluation_result, validation_result, monitor_result
):
    """Lead, main and extra tables alike: a header button per visible column that sorts."""
    from cmlops.widgets.model import build_model

    for result in (drift_result, evaluation_result, validation_result, monitor_result):
        model = build_model(result)
        view = build_view(result)
        expected = len(model.lead_tables) + bool(model.table.columns) + len(model.extra_tables)
        assert len(view.tables) == expected >= 1, model.kind
        assert "cmlops-live-view" in view.widget._dom_classes
        for table in view.tables:
            visible = [c for c in table.table.columns if c not in table.table.hidden]
            assert list(table.buttons) == visible
            assert all(b.description.endswith((" ↕", " ▲", " ▼")) for b in table.buttons.values())
            assert all("cm-sort" in b._dom_classes for b in table.buttons.values())
            # the header keeps its height however long the table (flex never shrinks it)
            assert table.header.layout.flex == "0 0 auto"
            column = visible[0]
            table.buttons[column].click()
            values = [plain(v) for v in table.table.column_values(column)]
            present = [v for v in values if v is not None]
            assert table.buttons[column].description == f"{column} ▲"
            assert values[: len(present)] == present  # missing values last
            table.buttons[column].click()
            assert table.buttons[column].description == f"{column} ▼"


def test_live_figure_follows_the_panel_width(drift_result):
    from cmlops.widgets.live_figure import PLOTLY_MIMETYPE

    view = build_view(drift_result)
    (output,) = view.figure_box.outputs
    spec = output["data"][PLOTLY_MIMETYPE]
    assert spec["config"]["responsive"] is True
    assert spec["layout"]["autosize"] is True and "width" not in spec["layout"]
    assert [t["type"] for t in spec["data"]] == [t.type for t in view.figure.data]
    view.select("bmi")  # a new selection replaces the figure in the same Output
    (output,) = view.figure_box.outputs
    assert "bmi" in output["data"][PLOTLY_MIMETYPE]["layout"]["title"]["text"]


def test_a_capped_table_says_how_many_rows_it_shows():
    from cmlops.widgets.sortable import SortableTable
    from cmlops.widgets.table import Table

    table = Table(columns=["hash"], rows=[[f"h{i:03d}"] for i in range(200)], total_rows=400)
    widget = SortableTable(table, title="Shared subjects")
    assert "200 of 400 shown" in widget.page_label.value
    assert widget.pager.layout.display == ""
