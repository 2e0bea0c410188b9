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
