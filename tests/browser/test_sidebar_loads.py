"""JupyterLab loads with the cmlops extension: sidebar, status bar item, palette commands."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def open_sidebar(page) -> None:
    page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
    page.wait_for_selector("#cmlops-sidebar .cmlops-header h2", state="visible")


def test_sidebar_opens_with_four_tabs(page):
    open_sidebar(page)
    assert page.inner_text("#cmlops-sidebar .cmlops-header h2") == "Clinical MLOps"
    tabs = page.locator("#cmlops-sidebar .cmlops-tab").all_inner_texts()
    assert tabs == ["Lineage", "Audit trail", "Reports", "Models"]
    assert page.locator("#cmlops-sidebar .cmlops-error").count() == 0
    screenshot(page, "sidebar-empty")


def test_status_bar_item_opens_sidebar(page):
    item = page.locator(".cmlops-statusbar")
    item.wait_for()
    page.wait_for_function("document.querySelector('.cmlops-statusbar').dataset.chain === 'ok'")
    assert "chain OK" in item.inner_text()
    item.click()
    page.wait_for_selector("#cmlops-sidebar", state="visible")


def test_commands_are_registered(page):
    commands = page.evaluate("window.jupyterapp.commands.listCommands()")
    for command in ("cmlops:open-sidebar", "cmlops:track-cell", "cmlops:load-extension"):
        assert command in commands
    label = page.evaluate("window.jupyterapp.commands.label('cmlops:track-cell')")
    assert label == "Track this cell"
