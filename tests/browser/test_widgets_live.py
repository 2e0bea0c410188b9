"""The live views in a real JupyterLab: every result kind's tables sort on a header click,
the headers are visible in the light and the dark theme, and figures follow the panel."""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import open_lab, screenshot
from tests.browser.test_lineage_e2e import KERNEL_IDLE, run
from tests.browser.test_reports_e2e import _contrast, _rgb

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

HOSTILE = "<img src=x onerror=window.__cmlopsPwned=1>"

SETUP = f"""
import numpy as np, pandas as pd, cmlops
from cmlops.stats.monitoring import Trigger
from cmlops.stats.validation import infer_schema, validate
rng = np.random.default_rng(1)
n = 400
ref = pd.DataFrame({{"age": rng.normal(50, 10, n), "bmi": rng.normal(25, 4, n),
                    "site": rng.choice(list("ABC"), n), {HOSTILE!r}: rng.normal(0, 1, n)}})
cur = ref.copy()
cur["age"] += 6
cur["bmi"] += 1
y = rng.integers(0, 2, 600)
s = np.clip(0.35 * y + rng.uniform(0, 0.65, 600), 0, 1)
s2 = np.clip(0.2 * y + rng.uniform(0, 0.8, 600), 0, 1)
sex = rng.choice(["F", "M"], 600)
t = pd.DataFrame({{"t": pd.date_range("2024-01-01", periods=2400, freq="h"),
                  "x": rng.normal(size=2400), "y": rng.integers(0, 2, 2400)}})
t["p"] = np.clip(0.3 * t.y + rng.uniform(0, 0.7, 2400), 0, 1)
t.loc[1600:, "x"] += 1.0
bad = ref.copy()
bad.loc[3, "age"] = 500.0
bad.loc[4, "site"] = "Z"
"""

#: (kind, the cell that displays it) — one output per result kind
RESULTS = [
    ("drift", "cmlops.drift(ref, cur)"),
    ("validation", "validate(bad, infer_schema(ref))"),
    ("evaluation", "cmlops.evaluate(y, s, thresholds=[0.3, 0.5], groups={'sex': sex})"),
    (
        "monitor",
        "cmlops.monitor(t, time='t', window='30D', target='y', prediction='p', "
        "triggers=[Trigger.auroc_below(0.7), Trigger.feature_drift()])",
    ),
    ("comparison", "cmlops.compare(y, s, s2, groups={'sex': sex})"),
    (
        "independence",
        "cmlops.independence(ref.assign(id=range(n)), cur.assign(id=range(n)), id='id')",
    ),
]

#: the first cell of every body row — its text and, for a number, the value it sorts by
#: (``data-sort``) — and the header labels, of one table
TABLE_STATE = """(table) => ({
  rows: [...table.querySelectorAll('.cm-sort-body tbody tr')].map(r =>
    [r.cells[0].innerText.trim(), r.cells[0].dataset.sort ?? null]),
  heads: [...table.querySelectorAll('.cm-sort')].map(b => b.innerText.trim()),
})"""

#: colour of a header button's text and its background, and of a body cell's text and the
#: colour behind the output (the first non-transparent ancestor)
COLOURS = """(table) => {
  const bg = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
    }
    return 'rgb(255, 255, 255)';
  };
  const b = table.querySelector('.cm-sort');
  const td = table.querySelector('.cm-sort-body td');
  return [getComputedStyle(b).color, bg(b), getComputedStyle(td).color, bg(td)];
}"""


def write_notebook(root, name: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [
        nbformat.v4.new_code_cell(code) for _kind, code in RESULTS
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / name)


def _key(cell: list) -> tuple[int, object]:
    """What the view sorts a cell by: numbers (their raw value, never guessed from the text:
    a hexadecimal id such as '3e51…' reads as a float) before text, text case-insensitively."""
    text, number = cell
    return (0, float(number)) if number is not None else (1, text.lower())


def _sorted_text(cells: list[list], reverse: bool) -> bool:
    """In order (missing cells, shown as '—', come last whatever the direction)."""
    present = [c for c in cells if c[0] != "—"]
    keys = [_key(c) for c in present]
    groups = [k for k in keys if k[0] == 0], [k for k in keys if k[0] == 1]
    order = sorted(groups[0], reverse=reverse) + sorted(groups[1], reverse=reverse)
    missing = [c[0] for c in cells[len(present) :]]
    return keys == order and missing == ["—"] * len(missing)


def _click_until(page, table, header, label: str) -> None:
    for _ in range(2):
        header.click()
        try:
            page.wait_for_function(
                "([t, h]) => t.querySelector('.cm-sort').innerText.trim() === h",
                arg=[table.element_handle(), label],
                timeout=5_000,
            )
            return
        except PlaywrightTimeout:  # it was sorted by this column already: click once more
            continue
    raise AssertionError(f"header never showed {label!r}")


def _check_sorting(page, table) -> None:
    """Clicking the first header sorts by it, a second click reverses; the rows move."""
    before = table.evaluate(TABLE_STATE)
    header = table.locator(".cm-sort").first
    header.scroll_into_view_if_needed()
    box = header.bounding_box()
    assert box and box["width"] > 20 and box["height"] >= 20, box
    column = before["heads"][0].rsplit(" ", 1)[0]
    _click_until(page, table, header, f"{column} ▲")
    ascending = [tuple(c) for c in table.evaluate(TABLE_STATE)["rows"]]
    assert _sorted_text(ascending, reverse=False), ascending
    header.click()
    page.wait_for_function(
        "([t, h]) => t.querySelector('.cm-sort').innerText.trim() === h",
        arg=[table.element_handle(), f"{column} ▼"],
    )
    descending = [tuple(c) for c in table.evaluate(TABLE_STATE)["rows"]]
    assert _sorted_text(descending, reverse=True), descending
    if len(before["rows"]) < 50:  # one page: the same rows, reordered
        original = [tuple(c) for c in before["rows"]]
        assert (
            sorted(ascending, key=str) == sorted(descending, key=str) == sorted(original, key=str)
        )
    if len(set(ascending)) > 1:
        assert ascending != descending


def _readable(table) -> None:
    head_fg, head_bg, cell_fg, cell_bg = (_rgb(c) for c in table.evaluate(COLOURS))
    assert _contrast(head_fg, head_bg) >= 4.5, (head_fg, head_bg)
    assert _contrast(cell_fg, cell_bg) >= 4.5, (cell_fg, cell_bg)


def _plot_widths(page) -> list[tuple[float, float]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.cmlops-live-view .js-plotly-plot')].map(p =>
            [p.getBoundingClientRect().width,
             p.closest('.jp-OutputArea-output').getBoundingClientRect().width])"""
    )


def test_every_result_view_sorts_on_header_click_in_both_themes(browser, lab):
    write_notebook(lab.root, "views.ipynb")
    page = open_lab(browser, lab, "views.ipynb")
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        run(page, "notebook:run-all-cells")
        views = page.locator(".cmlops-live-view")
        page.wait_for_function(
            f"document.querySelectorAll('.cmlops-live-view').length === {len(RESULTS)}",
            timeout=120_000,
        )
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        for i, (kind, _code) in enumerate(RESULTS):
            view = views.nth(i)
            assert f"cm-kind-{kind}" in view.get_attribute("class").split()
            tables = view.locator(".cm-live-table")
            assert tables.count() >= 1, kind
            for j in range(tables.count()):
                table = tables.nth(j)
                assert table.locator(".cm-sort").count() >= 2, (kind, j)
                _check_sorting(page, table)
                _readable(table)
        assert page.evaluate("window.__cmlopsPwned === undefined")
        views.nth(0).scroll_into_view_if_needed()
        screenshot(page, "widgets-live-light")
        # Figures fill their output and follow it when the sidebar takes room.
        widths = _plot_widths(page)
        assert len(widths) >= 5 and all(abs(p - o) <= 2 for p, o in widths), widths
        run(page, "cmlops:open-sidebar")
        page.wait_for_function(
            """(before) => [...document.querySelectorAll('.cmlops-live-view .js-plotly-plot')]
                .every(p => p.getBoundingClientRect().width < before - 100)""",
            arg=widths[0][1],
            timeout=15_000,
        )
        assert all(abs(p - o) <= 2 for p, o in _plot_widths(page))
        run(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
        page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
        for i in range(len(RESULTS)):
            tables = views.nth(i).locator(".cm-live-table")
            for j in range(tables.count()):
                _readable(tables.nth(j))
        views.nth(2).scroll_into_view_if_needed()
        screenshot(page, "widgets-live-dark")
        run(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
    except Exception:
        screenshot(page, "widgets-live-failure")
        raise
    finally:
        page.context.close()
