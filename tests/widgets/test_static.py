"""Static HTML works offline: no remote scripts, plotly.js exactly once per document."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from cmlops.errors import InvalidInputError
from cmlops.widgets import html_document, to_html
from cmlops.widgets.static import BUNDLE_MARKER

PLOTLY_HEADER = re.compile(r"\* plotly\.js v\d")


def _bundles(html_text: str) -> int:
    soup = BeautifulSoup(html_text, "html.parser")
    marked = soup.find_all("script", attrs={BUNDLE_MARKER: True})
    assert len(marked) == len(PLOTLY_HEADER.findall(html_text))
    return len(marked)


def _remote_refs(html_text: str) -> list[str]:
    soup = BeautifulSoup(html_text, "html.parser")
    refs = [t.get("src") for t in soup.find_all(["script", "img", "iframe"]) if t.get("src")]
    refs += [t.get("href") for t in soup.find_all("link") if t.get("href")]
    return refs


def test_document_of_several_results_has_one_bundle_and_no_remote_script(
    drift_result, evaluation_result
):
    doc = html_document([drift_result, "<h2>between</h2>", evaluation_result], title="Report")
    assert _bundles(doc) == 1
    assert _remote_refs(doc) == []
    assert not re.search(r"<script[^>]+src=", doc)
    assert doc.index("<h2>between</h2>") < doc.rindex("Model evaluation")
    soup = BeautifulSoup(doc, "html.parser")
    assert len(soup.select("div.cmlops-result")) == 2
    # every figure container has its data next to it
    for plot in soup.select("div.cm-plot"):
        assert soup.find("script", id=plot["id"] + "-data") is not None


def test_include_plotlyjs_modes(drift_result):
    assert _bundles(to_html(drift_result, include_plotlyjs=True)) == 1
    assert _bundles(to_html(drift_result, include_plotlyjs=False)) == 0
    # outside a kernel "auto" means self-contained
    assert _bundles(to_html(drift_result)) == 1
    with pytest.raises(InvalidInputError, match="include_plotlyjs"):
        to_html(drift_result, include_plotlyjs="cdn")


def test_drift_block_shows_verdict_thresholds_and_correction(drift_result):
    soup = BeautifulSoup(to_html(drift_result, include_plotlyjs=False), "html.parser")
    header = soup.select_one(".cm-header").get_text(" ")
    assert f"{drift_result.n_drifted} of {drift_result.n_tested} tested columns drifted" in header
    facts = soup.select_one(".cm-facts").get_text()
    assert "correction: holm" in facts
    assert "alpha: 0.05" in facts
    # drifted columns come first in the table; the strongest shift leads
    first = soup.select("table.cm-table tbody tr")[0].find("td").get_text()
    assert first == "age"
    assert len(soup.select("div.cm-plot")) == len(drift_result.columns)


def test_evaluation_block_has_failed_criteria_and_four_figures(evaluation_result):
    soup = BeautifulSoup(to_html(evaluation_result, include_plotlyjs=False), "html.parser")
    assert "acceptance criteria failed" in soup.select_one(".cm-header").get_text(" ")
    titles = [h.get_text() for h in soup.find_all("h4")]
    assert "Failed acceptance criteria" in titles
    assert len(soup.select("div.cm-plot")) == 4
