"""Odd results still render: warnings, NaN, no columns, one class, 10,000+ categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
from bs4 import BeautifulSoup

from cmlops.widgets import build_view, to_html


def _render(result):
    html_text = to_html(result, include_plotlyjs=False)
    view = build_view(result)
    return BeautifulSoup(html_text, "html.parser"), view


def test_zero_columns_renders_a_note():
    from cmlops.stats.drift import DriftResult

    empty = DriftResult(
        columns=[],
        correction="holm",
        alpha=0.05,
        drift_share=0.5,
        n_tested=0,
        n_drifted=0,
        share_drifted=0.0,
        dataset_drift=False,
        n_reference=0,
        n_current=0,
        warnings=["nothing to compare"],
    )
    soup, view = _render(empty)
    assert "No column could be tested: drift is not evaluated" in soup.get_text()
    assert "NOT EVALUATED" in soup.select_one(".cm-badge").get_text()
    assert "nothing to compare" in soup.select_one(".cm-warnings").get_text()
    assert "no rows" in soup.get_text()
    assert view.dropdown is None


def test_all_missing_and_constant_columns():
    from cmlops.stats.drift import drift

    ref = pd.DataFrame({"a": [np.nan] * 6, "b": [1.0] * 6, "c": list("xxyyzz")})
    cur = pd.DataFrame({"a": [np.nan] * 6, "b": [1.0] * 6, "c": list("xyzzzz")})
    result = drift(ref, cur)
    soup, view = _render(result)
    assert soup.find("table") is not None
    for column in ("a", "b", "c"):
        view.select(column)
        assert view.figure is not None


def test_one_class_evaluation_renders_with_warning_and_message_figures():
    from cmlops.stats.evaluation import evaluate

    rng = np.random.default_rng(0)
    result = evaluate(np.zeros(60, dtype=int), rng.uniform(0, 1, 60))
    soup, view = _render(result)
    assert "only one class" in soup.select_one(".cm-warnings").get_text()
    assert "undefined" in soup.select_one(".cm-header").get_text()
    view.select("ROC curve")
    texts = [a.text for a in view.figure.layout.annotations]
    assert any("undefined" in t for t in texts)


def test_ten_thousand_categories_are_capped_and_said():
    from cmlops.stats.drift import drift
    from cmlops.widgets.figures import MAX_CATEGORIES

    rng = np.random.default_rng(1)
    n = 25_000
    ref = pd.DataFrame({"code": [f"c{i}" for i in rng.integers(0, 11_000, n)]})
    cur = pd.DataFrame({"code": [f"c{i}" for i in rng.integers(0, 11_000, n)]})
    result = drift(ref, cur)
    soup, view = _render(result)
    bars = view.figure.data[0]
    assert len(bars.y) <= MAX_CATEGORIES + 1
    assert bars.y[-1].startswith("other (")
    # the "other" bar holds everything not drawn: each sample's shares sum to 1
    for trace in view.figure.data:
        assert abs(sum(trace.x) - 1.0) < 1e-9
    note = view.figure.layout.xaxis.title.text  # said under the value axis
    assert f"{MAX_CATEGORIES} most frequent of" in note
    assert "probably an identifier" in soup.select_one(".cm-warnings").get_text()


def test_broken_result_falls_back_without_raising():
    class Broken:
        _cmlops_result_kind = "drift"

        def to_frame(self):
            raise RuntimeError("frame exploded")

        def to_dict(self):
            return {"n_tested": 1, "n_drifted": 0, "columns": [{"column": "x", "kind": "??"}]}

    soup, view = _render(Broken())
    assert "to_frame() failed: RuntimeError: frame exploded" in soup.get_text()
    view.select("x")
    assert view.figure is not None


def test_unknown_kind_uses_generic_view():
    class Other:
        _cmlops_result_kind = "something"

        def to_frame(self):
            return pd.DataFrame({"metric": ["m1", "m2"], "passed": [True, False]})

        def to_dict(self):
            return {"threshold": 0.5, "warnings": [{"metric": "m2", "message": "low"}]}

    soup, _ = _render(Other())
    assert "1 of 2 failed" in soup.get_text()
    assert "m2: low" in soup.select_one(".cm-warnings").get_text()
