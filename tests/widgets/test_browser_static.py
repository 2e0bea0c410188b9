"""The static report page in real headless Chromium: offline, every figure drawn, nothing runs.

The page is opened from a file with every network request blocked and recorded; a
hostile column name must not fire a dialog or an error.
"""

from __future__ import annotations

import pytest

from cmlops.widgets import html_document
from tests.chromium import chromium

SORTED_COLUMNS = """(table, cols) => Array.from(table.tBodies[0].rows).map(
    r => cols.map(i => r.cells[i].getAttribute("data-sort") || r.cells[i].textContent))"""


@pytest.mark.browser
@pytest.mark.req("REQ-PKG-007")
def test_static_document_draws_offline_in_chromium(tmp_path, drift_result, evaluation_result):
    page_file = tmp_path / "report.html"
    page_file.write_text(html_document([drift_result, evaluation_result]), encoding="utf-8")
    network, errors, dialogs = [], [], []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})

        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                network.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        n_plots = page.locator(".cm-plot").count()
        page.wait_for_function(
            "n => document.querySelectorAll('.cm-plot[data-drawn]').length === n",
            arg=n_plots,
            timeout=30_000,
        )
        svgs = page.locator(".cm-plot svg.main-svg").count()
        # the static table sorts on a header click: by p-value, then reversed
        drift_block = page.locator(".cmlops-result").first
        table = drift_block.locator("table.cm-table").first
        headers = table.locator("thead th").all_inner_texts()
        p_col = headers.index("p_value")
        table.locator("thead th").nth(p_col).click()
        ascending = table.evaluate(SORTED_COLUMNS, [0, p_col])
        table.locator("thead th").nth(p_col).click()
        descending = table.evaluate(SORTED_COLUMNS, [0, p_col])
        has_plotly = page.evaluate("typeof window.Plotly")
        imgs = page.locator("img").count()
    p = {c.column: c.p_value for c in drift_result.columns}
    names = [row[0] for row in ascending]
    assert [p[n] for n in names] == sorted(p[n] for n in names)
    assert [float(row[1]) for row in descending] == sorted(
        (float(row[1]) for row in ascending), reverse=True
    )
    assert n_plots == len(drift_result.columns) + 4
    assert svgs >= n_plots
    assert has_plotly == "object"
    assert imgs == 0
    assert network == []
    assert errors == []
    assert dialogs == []
