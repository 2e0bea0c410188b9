"""Hostile user strings (column names, category values, subgroup names) never become markup."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from cmlops.widgets import html_document, to_html

from .conftest import HOSTILE, SCRIPT_BREAK


def _assert_inert(html_text: str) -> BeautifulSoup:
    soup = BeautifulSoup(html_text, "html.parser")
    assert soup.find("img") is None, "a user string became a live <img> element"
    for tag in soup.find_all(True):
        for attr in tag.attrs:
            assert not attr.lower().startswith("on"), f"event handler attribute on <{tag.name}>"
    # every <script> is ours: the plotly bundle, figure JSON, or the draw loop
    for script in soup.find_all("script"):
        kind = script.get("type", "")
        assert kind in ("text/javascript", "application/json"), kind
        if kind == "application/json":
            json.loads(script.string)  # the JSON is intact: nothing closed the element early
    return soup


@pytest.mark.req("REQ-SEC-003")
def test_hostile_column_and_category_in_drift_html(drift_result):
    html_text = to_html(drift_result, include_plotlyjs=False)
    soup = _assert_inert(html_text)
    # the name shows as text in the table ...
    cells = [td.get_text() for td in soup.find_all("td")]
    assert HOSTILE in cells
    assert SCRIPT_BREAK in cells
    # ... and never raw anywhere in the markup
    assert HOSTILE not in html_text
    assert "</script><img" not in html_text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html_text
    # the figure JSON carries the category and the column name, entity-escaped for plotly
    payloads = [
        json.loads(s.string) for s in soup.find_all("script", attrs={"type": "application/json"})
    ]
    dumped = json.dumps(payloads)
    assert "&lt;img src=x onerror=alert(1)&gt;" in dumped
    assert "&lt;/script&gt;" in dumped


@pytest.mark.req("REQ-SEC-003")
def test_hostile_subgroup_in_evaluation_html(evaluation_result):
    html_text = to_html(evaluation_result, include_plotlyjs=False)
    soup = _assert_inert(html_text)
    assert f"sex={HOSTILE}" in [td.get_text() for td in soup.find_all("td")]
    assert HOSTILE not in html_text


@pytest.mark.req("REQ-SEC-003")
def test_full_document_with_bundle_is_inert(drift_result, evaluation_result):
    doc = html_document([drift_result, evaluation_result], title=HOSTILE)
    soup = _assert_inert(doc)
    assert soup.title.get_text() == HOSTILE
