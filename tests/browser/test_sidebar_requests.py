"""The sidebar never draws a late lineage reply under another notebook; one head poller."""

from __future__ import annotations

import time
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.store import open_store
from tests.browser.conftest import open_lab, screenshot

pytestmark = [pytest.mark.browser]

POLL_SECONDS = 0.5  # the test lab's c.CmlopsServer.poll_seconds (tests/browser/conftest.py)

CAPTION = "document.querySelector('#cmlops-sidebar .cmlops-caption').textContent"
LABELS = (
    "Array.from(document.querySelectorAll('#cmlops-sidebar .cmlops-node-label'))"
    ".map(n => n.textContent)"
)


def seed(root, notebook: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record one tracked block under ``notebook`` (as a kernel there would)."""
    monkeypatch.setenv("CMLOPS_HOME", str(root / ".cmlops"))
    monkeypatch.setenv("CMLOPS_NOTEBOOK", notebook)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {notebook}")]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / notebook)
    ns: dict[str, Any] = {}
    with cmlops.track(f"make {variable}", namespace=ns, store=open_store(home=root / ".cmlops")):
        ns[variable] = pd.DataFrame({variable: np.arange(10)})  # distinct content, own entity


def test_a_late_lineage_reply_is_never_drawn_under_another_notebook(
    browser, lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(lab.root, "slow_a.ipynb", "frame_of_a", monkeypatch)
    seed(lab.root, "fast_b.ipynb", "frame_of_b", monkeypatch)
    page = open_lab(browser, lab, "slow_a.ipynb")
    held: list[Any] = []
    settled: list[str] = []

    def hold_a(route: Any) -> None:
        if "notebook=slow_a.ipynb" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.on("requestfinished", lambda r: settled.append(r.url))
    page.on("requestfailed", lambda r: settled.append(r.url))
    page.route("**/cmlops/api/lineage?*", hold_a)
    try:
        page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
        deadline = time.monotonic() + 30
        while not held and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert held, "the sidebar never asked for slow_a's lineage"
        page.evaluate(
            "window.jupyterapp.commands.execute('docmanager:open', {path: 'fast_b.ipynb'})"
        )
        page.wait_for_function(f"{CAPTION}.startsWith('fast_b.ipynb')", timeout=30_000)
        page.wait_for_function(f"{LABELS}.some(t => t.startsWith('frame_of_b'))", timeout=30_000)
        # now slow_a's replies arrive, late
        for route in held:
            try:
                route.continue_()
            except Exception:
                pass
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not all(
            any(r.request.url == url for url in settled) for r in held
        ):
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)  # give a late reply every chance to be drawn
        labels = page.evaluate(LABELS)
        assert not any(label.startswith("frame_of_a") for label in labels), labels
        assert any(label.startswith("frame_of_b") for label in labels), labels
        assert page.evaluate(CAPTION).startswith("fast_b.ipynb")
    except Exception:
        screenshot(page, "late-lineage-failure")
        raise
    finally:
        page.unroute("**/cmlops/api/lineage?*")
        page.context.close()


def test_sidebar_and_status_bar_share_one_head_poller(browser, lab) -> None:
    """With the sidebar open, the head is asked once per poll interval, not once per view."""
    page = open_lab(browser, lab)
    heads: list[float] = []
    page.on(
        "request",
        lambda r: heads.append(time.monotonic()) if r.url.split("?")[0].endswith("/head") else None,
    )
    try:
        page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
        page.wait_for_function(
            "document.querySelector('#cmlops-sidebar').dataset.headSeq !== undefined",
            timeout=30_000,
        )
        page.wait_for_function(
            "document.querySelector('.cmlops-statusbar').dataset.chain === 'ok'", timeout=30_000
        )
        heads.clear()
        started = time.monotonic()
        page.wait_for_timeout(6_000)
        elapsed = time.monotonic() - started
        # the test lab polls every 0.5 s: one poller makes about two requests a second;
        # two pollers (the sidebar's and the status bar's) would make about four
        assert 0 < len(heads) <= elapsed / POLL_SECONDS + 2, (len(heads), elapsed)
    finally:
        page.context.close()
