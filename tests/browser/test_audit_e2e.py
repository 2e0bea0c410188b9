"""The Audit trail tab in a real JupyterLab: records grouped under the activity they belong
to, each read in names (the raw ids only in the record's collapsed details)."""

from __future__ import annotations

import pytest

from cmlops.store import Activity, Entity, Generated, LineageBatch, Used, open_store
from tests.browser.conftest import screenshot
from tests.browser.test_sidebar_loads import open_sidebar

pytestmark = pytest.mark.browser
HOSTILE = "<img src=x onerror=\"document.body.dataset.pwned='1'\">"


def _tracked_cell(lab) -> None:
    """What a tracked cell writes: its inputs and outputs, the cell, the relations."""
    data = Entity(id="audit-e2e-data-7f3a", kind="dataset", name="trial.csv", fingerprint="f1")
    odd = Entity(id="audit-e2e-odd-91c2", kind="dataset", name=HOSTILE, fingerprint="f2")
    model = Entity(id="audit-e2e-model-c0de", kind="model", name="clf", fingerprint="f3")
    cell = Activity(
        id="audit-e2e-cell-5e1f",
        kind="cell",
        code="%%cmlops_track\nclf = LogisticRegression().fit(X, y)\n",
        notebook="study/fit.ipynb",
        started="2026-11-30T09:15:00+00:00",
        status="ok",
        attributes={"execution_count": 4},
    )
    with open_store(home=lab.home) as store:
        store.record_lineage(
            LineageBatch(
                entities=[data, odd, model],
                activities=[cell],
                used=[Used(cell.id, data.id, "input"), Used(cell.id, odd.id, "input")],
                generated=[Generated(model.id, cell.id, "output")],
            )
        )


def test_audit_groups_records_by_activity_with_names(page, lab):
    _tracked_cell(lab)
    open_sidebar(page)
    page.click("#cmlops-sidebar .cmlops-tab[data-tab='audit']")
    group = page.locator("#cmlops-sidebar .cmlops-audit-group[data-group='audit-e2e-cell-5e1f']")
    group.wait_for()
    title = "cell [4] clf = LogisticRegression().fit(X, y)"
    assert group.locator(".cmlops-group-title").inner_text() == title
    detail = group.locator(".cmlops-group-detail").inner_text()
    assert "fit.ipynb" in detail and "2026-11-30 09:15:00" in detail and "ok" in detail
    labels = group.locator(".cmlops-record-label").all_inner_texts()
    # the whole batch in one group: 3 entities, the cell, 3 relations (agent/env if any)
    assert f'{title} used dataset "trial.csv" (input)' in labels, labels
    assert f'{title} generated model "clf"' in labels, labels
    assert 'dataset "trial.csv" recorded' in labels and 'model "clf" recorded' in labels
    assert f"{title} ran in study/fit.ipynb (ok)" in labels, labels
    assert detail.endswith(f"{len(labels)} records")
    assert any(HOSTILE[:40] in label for label in labels)  # shown as text, never run
    assert page.evaluate("document.body.dataset.pwned") is None
    # Raw ids are not what the reviewer reads: only in a record's collapsed details.
    visible = group.inner_text()
    for raw in ("audit-e2e-data-7f3a", "audit-e2e-model-c0de", "audit-e2e-cell-5e1f"):
        assert raw not in visible
    record = group.locator(".cmlops-record").filter(has_text='used dataset "trial.csv"')
    record.locator("summary").click()
    assert record.locator(".cmlops-object").inner_text().startswith("object ")
    assert "audit-e2e-data-7f3a" in record.locator(".cmlops-code").inner_text()
    # Collapsing a group hides its records; its heading stays.
    group.locator(".cmlops-group-head").click()
    assert not group.locator(".cmlops-record").first.is_visible()
    assert group.locator(".cmlops-group-title").is_visible()
    group.locator(".cmlops-group-head").click()
    screenshot(page, "audit-groups")
