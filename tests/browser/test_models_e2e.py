"""The Models tab in a real JupyterLab: registered versions, status and history, as text."""

from __future__ import annotations

import pytest

from cmlops.lifecycle.registry import register_version, retire_version
from cmlops.store import Activity, Entity, Generated, LineageBatch, Used, open_store
from tests.browser.conftest import screenshot
from tests.browser.test_sidebar_loads import open_sidebar

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=\"document.body.dataset.pwned='1'\">"


def test_models_tab_shows_versions_and_history(page, lab):
    data = Entity(
        id="e2e-data",
        kind="dataset",
        name="training.csv",
        schema={"rows": 42, "columns": [{"name": "age", "dtype": "int64"}]},
    )
    models = [Entity(id=f"e2e-model-{i}", kind="model", name=f"clf{i}") for i in (1, 2)]
    fit = Activity(id="e2e-fit", kind="cell", name="fit", status="ok")
    with open_store(home=lab.home) as store:  # as the lab's hub user (see conftest)
        store.record_lineage(
            LineageBatch(
                entities=[data, *models],
                activities=[fit],
                used=[Used("e2e-fit", "e2e-data")],
                generated=[Generated(m.id, "e2e-fit") for m in models],
            )
        )
        register_version(store, "e2e-risk", "e2e-model-1", description=HOSTILE)
        register_version(store, "e2e-risk", "e2e-model-2")
        retire_version(store, "e2e-risk", 1, reason="replaced by v2")
    open_sidebar(page)
    page.click("#cmlops-sidebar .cmlops-tab[data-tab='models']")
    button = page.locator("#cmlops-sidebar .cmlops-model-name[data-model='e2e-risk']")
    button.wait_for()
    button.click()
    rows = page.locator("#cmlops-sidebar .cmlops-versions tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert page.get_attribute("#cmlops-sidebar tr[data-version='1']", "data-status") == "retired"
    assert page.get_attribute("#cmlops-sidebar tr[data-version='2']", "data-status") == "candidate"
    detail = page.inner_text("#cmlops-sidebar .cmlops-model-detail")
    assert HOSTILE in detail  # shown as text
    assert "retired: replaced by v2" in detail
    assert "model.version.retired v1" in detail
    assert page.evaluate("document.body.dataset.pwned") is None
    screenshot(page, "models-tab")


def test_a_late_model_reply_is_never_drawn_under_another_model(page, lab):
    """Click a model whose reply is held, then another: the held reply, released last, is
    dropped (the detail shows the model clicked last)."""
    models = [Entity(id=f"e2e-late-{i}", kind="model", name=f"late{i}") for i in (1, 2)]
    with open_store(home=lab.home) as store:
        store.record_lineage(LineageBatch(entities=models))
        register_version(store, "e2e-slow", "e2e-late-1", description="the slow one")
        register_version(store, "e2e-fast", "e2e-late-2", description="the fast one")
    held: list = []
    settled: list[str] = []

    def hold_slow(route) -> None:
        if route.request.url.split("?")[0].endswith("/models/e2e-slow"):
            held.append(route)
        else:
            route.continue_()

    page.on("requestfinished", lambda r: settled.append(r.url))
    page.on("requestfailed", lambda r: settled.append(r.url))
    page.route("**/cmlops/api/models/*", hold_slow)
    heading = "document.querySelector('#cmlops-sidebar .cmlops-model-detail h3')"
    try:
        open_sidebar(page)
        page.click("#cmlops-sidebar .cmlops-tab[data-tab='models']")
        slow = page.locator("#cmlops-sidebar .cmlops-model-name[data-model='e2e-slow']")
        slow.wait_for()
        slow.click()
        for _ in range(300):
            if held:
                break
            page.wait_for_timeout(100)
        assert held, "the panel never asked for e2e-slow"
        page.click("#cmlops-sidebar .cmlops-model-name[data-model='e2e-fast']")
        page.wait_for_function(f"{heading}?.textContent === 'e2e-fast'", timeout=30_000)
        for route in held:  # now the slow reply arrives, late
            try:
                route.continue_()
            except Exception:  # aborted by the panel already: as good
                pass
        for _ in range(200):
            if all(r.request.url in settled for r in held):
                break
            page.wait_for_timeout(100)
        page.wait_for_timeout(500)  # every chance for a late reply to be drawn
        assert page.evaluate(f"{heading}.textContent") == "e2e-fast"
        assert "the fast one" in page.inner_text("#cmlops-sidebar .cmlops-model-detail")
        assert "the slow one" not in page.inner_text("#cmlops-sidebar .cmlops-model-detail")
    except Exception:
        screenshot(page, "late-model-failure")
        raise
    finally:
        page.unroute("**/cmlops/api/models/*")
