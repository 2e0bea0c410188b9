"""A corrupt store: the sidebar shows the error and its fix; JupyterLab keeps working."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_lab, screenshot, start_lab, stop_lab

pytestmark = pytest.mark.browser


def test_corrupt_store_shows_error_and_fix(browser, tmp_path):
    lab = start_lab(tmp_path)
    try:
        lab.home.mkdir()
        (lab.home / "store.sqlite").write_bytes(b"definitely not sqlite " * 200)
        page = open_lab(browser, lab)
        page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
        banner = page.locator("#cmlops-sidebar .cmlops-error").first
        banner.wait_for(timeout=30_000)
        assert banner.locator(".cmlops-error-message").inner_text()
        assert "restore it from backup" in banner.locator(".cmlops-error-fix").inner_text()
        page.wait_for_function(
            "document.querySelector('.cmlops-statusbar').dataset.chain === 'error'"
        )
        screenshot(page, "store-corrupt")
        # The rest of JupyterLab still works: create and open a notebook.
        page.evaluate(
            "window.jupyterapp.commands.execute('notebook:create-new', {kernelName: 'python3'})"
        )
        page.wait_for_selector(".jp-Notebook", timeout=30_000)
        page.context.close()
    finally:
        stop_lab(lab.process)
