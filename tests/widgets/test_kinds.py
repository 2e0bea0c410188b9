"""Validation and monitoring views from real results: verdicts, lead tables, figures."""

from __future__ import annotations

from bs4 import BeautifulSoup

from cmlops.widgets import build_view, to_html

from .conftest import HOSTILE


def test_validation_failing_checks_lead_and_hostile_value_is_text(validation_result):
    html_text = to_html(validation_result, include_plotlyjs=False)
    soup = BeautifulSoup(html_text, "html.parser")
    assert soup.find("img") is None
    assert HOSTILE not in html_text
    failures = validation_result.failures()
    assert failures, "the fixture must contain failing checks"
    header = soup.select_one(".cm-header").get_text(" ")
    assert validation_result.verdict.upper() in header
    titles = [h.get_text() for h in soup.find_all("h4")]
    assert titles[0] == f"Failing checks ({len(failures)})"
    assert titles[1] == "All checks"
    lead_rows = soup.find_all("table")[0].select("tbody tr")
    assert len(lead_rows) == len(failures)
    assert any("allowed_values" in r.get_text() for r in lead_rows)
    # the offending category value shows, escaped, among the examples
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text

    view = build_view(validation_result)
    assert list(view.dropdown.options) == ["Failing rows by check", "Check outcomes by column"]
    bars = view.figure.data[0]
    assert len(bars.y) == len(failures)
    # failing checks sort first in the main table
    statuses = [r[view.table.table.columns.index("status")] for r in view.table.rows]
    assert set(statuses[: len(failures)]) <= {"fail", "warn"}
    assert "pass" in statuses[len(failures) :]


def test_monitor_alerts_table_and_metric_figure_with_triggers(monitor_result):
    d = monitor_result.to_dict()
    assert d["alerts"], "the fixture must fire alerts"
    soup = BeautifulSoup(to_html(monitor_result, include_plotlyjs=False), "html.parser")
    header = soup.select_one(".cm-header").get_text(" ")
    assert f"{len(d['alerts'])} alert" in header
    assert soup.find("h4").get_text() == f"Alerts ({len(d['alerts'])})"

    view = build_view(monitor_result)
    assert "auroc" in view.dropdown.options
    view.select("auroc")
    names = [t.name for t in view.figure.data]
    assert "95% CI" in names and "AUROC (95% CI)" in names
    floor = [s for s in view.figure.layout.shapes if s.type == "line"]
    assert any(abs(s.y0 - 0.7) < 1e-12 for s in floor)
    auroc_alerts = [a for a in d["alerts"] if a["rule"] == "auroc_ci_low_below"]
    if auroc_alerts:
        marks = next(t for t in view.figure.data if t.name == "alert")
        assert len(marks.x) == len({a["window"] for a in auroc_alerts})
    view.select("calibration_slope")
    bands = [s for s in view.figure.layout.shapes if s.type == "rect"]
    assert len(bands) == 1 and (bands[0].y0, bands[0].y1) == (0.8, 1.2)
