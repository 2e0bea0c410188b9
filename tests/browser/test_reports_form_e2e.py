"""The report form in a real JupyterLab: path parameters picked with the server-side file
picker (only under the root, nothing hidden, no link out), the acceptance plan uploaded or
picked (a bad one refused beside the field), errors beside the Run button, and the runs
list showing each plan's verdict: PASS, FAIL and NOT EVALUATED from three real runs.

Runs after test_reports_e2e.py (file order), which expects an empty runs list first."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.slow]

FAIL_PLAN = """plan_id: needs-1000-rows
criteria:
  - {id: enough-rows, metric: rows, op: ">=", threshold: 1000}
"""
NOT_EVALUABLE_PLAN = """plan_id: needs-auroc
title: a metric data validation never computes
criteria:
  - {id: discrimination, metric: auroc, op: ">=", threshold: 0.7}
"""
NAN_PLAN = """plan_id: broken
criteria:
  - {id: a, metric: rows, op: ">=", threshold: .nan}
"""


def _tree(lab, tmp_path) -> dict[str, str]:
    root = lab.root
    (root / "study").mkdir()
    rows = ["id,age,arm"] + [f"{i},{40 + i % 30},{'AB'[i % 2]}" for i in range(50)]
    (root / "study" / "trial.csv").write_text("\n".join(rows) + "\n")
    (root / "study" / ".shadow.csv").write_text("id\n1\n")
    (root / "study" / "outside").symlink_to(tmp_path, target_is_directory=True)
    (root / "plans").mkdir()
    (root / "plans" / "fail.yaml").write_text(FAIL_PLAN)
    (root / "plans" / "notes.txt").write_text("not a plan")
    uploads = {}
    for name, text in (("ne.yaml", NOT_EVALUABLE_PLAN), ("nan.yaml", NAN_PLAN)):
        (tmp_path / name).write_text(text)
        uploads[name] = str(tmp_path / name)
    return uploads


def _entries(picker) -> list[str]:
    picker.locator(".cmlops-entry").first.wait_for()
    return picker.locator(".cmlops-entry").all_inner_texts()


def _beside(page, a: str, b: str) -> bool:
    """``b`` sits to the right of ``a`` on the same line (their boxes overlap vertically)."""
    return page.evaluate(
        """([a, b]) => {
        const r = document.querySelector(a).getBoundingClientRect();
        const s = document.querySelector(b).getBoundingClientRect();
        return s.width > 0 && s.left >= r.right && s.top < r.bottom && s.bottom > r.top;
    }""",
        [a, b],
    )


def _submit(page, lab, form, known: set[str]) -> str:
    """Click Run; the id of the run the server started."""
    form.locator(".cmlops-run").click()
    page.wait_for_function(
        "document.querySelectorAll('#cmlops-sidebar .cmlops-run-item[data-run]').length"
        f" > {len(known)}",
        timeout=30_000,
    )
    ids = {run["id"] for run in lab.api("cmlops/api/runs")["runs"]} - known
    assert len(ids) == 1, ids
    known |= ids
    return ids.pop()


def _verdict(page, run_id: str) -> str:
    badge = page.locator(
        f"#cmlops-sidebar .cmlops-run-item[data-run='{run_id}'] .cmlops-verdict-badge"
    )
    badge.wait_for(timeout=300_000)
    return badge.inner_text()


def _errors_beside_the_run_button(page, lab, form, known: set[str]) -> None:
    """The form's own check first, then every field the server refused; nothing starts."""
    run_error = form.locator(".cmlops-run-error")
    form.locator(".cmlops-run").click()
    assert run_error.inner_text() == "Not started: fix data first."
    assert _beside(page, "#cmlops-sidebar .cmlops-run", "#cmlops-sidebar .cmlops-run-error")
    data = form.locator("input[name='data']")
    data.fill("study/missing.csv")
    form.locator(".cmlops-run").click()
    field_error = form.locator(".cmlops-field[data-param='data'] .cmlops-field-error")
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-run-error').textContent"
        ".startsWith('Not started: data:')"
    )
    assert "input file not found: study/missing.csv" in field_error.inner_text()
    assert str(lab.root) not in run_error.inner_text()  # named as given, not by server path
    assert "not found" in run_error.inner_text()
    assert {run["id"] for run in lab.api("cmlops/api/runs")["runs"]} == known
    screenshot(page, "report-form-errors")


def _pick_the_data_file(page, form) -> None:
    """Browse…: folders under the root, nothing hidden, no link out of it; a pick fills."""
    data = form.locator("input[name='data']")
    field_error = form.locator(".cmlops-field[data-param='data'] .cmlops-field-error")
    form.locator(".cmlops-field[data-param='data'] .cmlops-browse").click()
    picker = form.locator(".cmlops-field[data-param='data'] .cmlops-picker")
    # the typed value's folder first: study/ (its missing file is simply not listed)
    assert _entries(picker) == ["trial.csv"], "hidden file or outside link listed"
    picker.locator(".cmlops-crumb[data-path='']").click()
    page.wait_for_function(
        "[...document.querySelectorAll(\"#cmlops-sidebar .cmlops-field[data-param='data'] "
        ".cmlops-entry\")].some(e => e.textContent === 'plans/')"
    )
    root_entries = _entries(picker)
    assert "study/" in root_entries and "plans/" in root_entries
    assert not any(e.startswith(".") for e in root_entries), root_entries
    picker.locator(".cmlops-entry[data-path='study']").click()
    picker.locator(".cmlops-entry[data-path='study/trial.csv']").click()
    assert data.input_value() == "study/trial.csv"
    assert not picker.is_visible()
    assert field_error.inner_text() == ""
    form.locator("input[name='reference']").fill("study/trial.csv")


def _three_plans_three_runs(page, lab, form, uploads, known: set[str]) -> dict[str, str]:
    """A bad upload refused beside the field; then an upload, a pick and the default,
    each submitted: the run ids by the verdict they must show."""
    plan = form.locator(".cmlops-plan")
    # A plan uploaded that --plan would refuse: refused beside the plan field.
    plan.locator("input.cmlops-plan-upload").set_input_files(uploads["nan.yaml"])
    plan_error = plan.locator("#cmlops-plan-error")
    page.wait_for_function(
        "document.querySelector('#cmlops-plan-error').textContent.includes('finite number')"
    )
    assert "threshold nan" in plan_error.inner_text()
    assert "Template default plan" in plan.locator(".cmlops-plan-current").inner_text()

    # 1) An uploaded plan on a metric data validation does not compute: NOT EVALUATED.
    plan.locator("input.cmlops-plan-upload").set_input_files(uploads["ne.yaml"])
    current = plan.locator(".cmlops-plan-current")
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-plan-current').textContent"
        ".startsWith('Plan needs-auroc from upload ne.yaml')"
    )
    assert plan_error.inner_text() == ""
    assert plan.locator("li").all_inner_texts() == ["discrimination: auroc >= 0.7"]
    not_evaluated = _submit(page, lab, form, known)

    # 2) A plan picked under the root (the picker lists plan files only): FAIL.
    plan.locator(".cmlops-plan-pick").click()
    plan_picker = plan.locator(".cmlops-picker")
    plan_picker.locator(".cmlops-entry[data-path='plans']").click()
    plan_picker.locator(".cmlops-entry[data-path='plans/fail.yaml']").wait_for()
    assert _entries(plan_picker) == ["fail.yaml"]  # notes.txt is not a plan
    plan_picker.locator(".cmlops-entry[data-path='plans/fail.yaml']").click()
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-plan-current').textContent"
        ".startsWith('Plan needs-1000-rows from plans/fail.yaml')"
    )
    failed = _submit(page, lab, form, known)

    # 3) Back to the template's default plan: PASS.
    plan.locator(".cmlops-plan-default").click()
    assert current.inner_text() == "Template default plan data-validation-default"
    passed = _submit(page, lab, form, known)

    return {"NOT EVALUATED": not_evaluated, "FAIL": failed, "PASS": passed}


@pytest.mark.req("REQ-PKG-010")
def test_report_form_picker_plans_errors_and_verdicts(page, lab, tmp_path):
    uploads = _tree(lab, tmp_path)
    known = {run["id"] for run in lab.api("cmlops/api/runs")["runs"]}
    page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
    sidebar = page.locator("#cmlops-sidebar")
    sidebar.locator(".cmlops-tab[data-tab='reports']").click()
    sidebar.locator(".cmlops-reports select[aria-label='Report template']").select_option(
        "data_validation"
    )
    form = sidebar.locator(".cmlops-form")
    plan = form.locator(".cmlops-plan")
    assert plan.locator(".cmlops-plan-current").inner_text() == (
        "Template default plan data-validation-default"
    )
    assert "no-failed-checks: failed_checks <= 0" in plan.locator("li").all_inner_texts()
    _errors_beside_the_run_button(page, lab, form, known)
    _pick_the_data_file(page, form)
    runs = _three_plans_three_runs(page, lab, form, uploads, known)
    for verdict, run_id in runs.items():
        assert _verdict(page, run_id) == verdict
    plans = {run["id"]: run["plan"] for run in lab.api("cmlops/api/runs")["runs"]}
    assert plans[runs["NOT EVALUATED"]] == "needs-auroc"
    assert plans[runs["FAIL"]] == "needs-1000-rows"
    assert plans[runs["PASS"]] == "template default"
    colours = page.evaluate(
        """() => [...document.querySelectorAll('#cmlops-sidebar .cmlops-verdict-badge')]
        .map(b => [b.textContent, getComputedStyle(b).color])"""
    )
    by_verdict = dict(colours)
    assert len({by_verdict["PASS"], by_verdict["FAIL"], by_verdict["NOT EVALUATED"]}) == 3
    sidebar.locator(f".cmlops-run-item[data-run='{runs['PASS']}']").scroll_into_view_if_needed()
    screenshot(page, "report-form-verdicts")
