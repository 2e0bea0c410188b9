"""End to end: run a report from the sidebar form, see it complete verified, open its outputs;
then the dark theme (screenshot artifact)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.slow]


@pytest.mark.req("REQ-PKG-010")
def test_report_from_form_completes_verified(page, lab):
    rows = ["id,age,arm"] + [f"{i},{40 + i % 30},{'AB'[i % 2]}" for i in range(50)]
    (lab.root / "trial.csv").write_text("\n".join(rows) + "\n")
    page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
    sidebar = page.locator("#cmlops-sidebar")
    sidebar.locator(".cmlops-tab[data-tab='reports']").click()
    picker = sidebar.locator(".cmlops-reports select[aria-label='Report template']")
    picker.wait_for()
    picker.select_option("data_validation")
    form = sidebar.locator(".cmlops-form")
    # Validation in the form: an absolute path is refused before anything is sent.
    form.locator("input[name='data']").fill("/etc/passwd")
    form.locator(".cmlops-run").click()
    error = form.locator(".cmlops-field[data-param='data'] .cmlops-field-error")
    assert "relative" in error.inner_text()
    assert lab.api("cmlops/api/runs")["runs"] == []
    form.locator("input[name='data']").fill("trial.csv")
    form.locator("input[name='reference']").fill("trial.csv")
    form.locator(".cmlops-run").click()
    item = sidebar.locator(".cmlops-run-item").first
    item.wait_for()
    badge = item.locator(".cmlops-badge")
    badge.wait_for(timeout=240_000)
    assert badge.inner_text() == "verified"
    assert "succeeded" in item.locator(".cmlops-status").inner_text()
    screenshot(page, "report-verified-light")
    _read_only_views_and_a_fresh_badge(page, lab, item)


def _read_only_views_and_a_fresh_badge(page, lab, item) -> None:
    """The report and the notebook open as sandboxed read-only pages that write nothing;
    the badge turns when the package is tampered with after it was listed."""
    from cmlops.reports.verify import verify_package

    package_id = lab.api("cmlops/api/runs")["runs"][0]["package_id"]
    folder = lab.root / "cmlops-packages" / package_id
    item.locator("button[data-view='report']").click()
    report = page.frame_locator(".cmlops-package-view[data-view='report'] iframe")
    report.locator(".cmlops-verdict-box").wait_for(timeout=60_000)
    item.locator("button[data-view='notebook']").click()
    notebook = page.frame_locator(".cmlops-package-view[data-view='notebook'] iframe")
    notebook.locator(".jp-InputArea").first.wait_for(timeout=60_000)  # code is shown
    label = page.evaluate("window.jupyterapp.shell.currentWidget.title.label")
    assert label == f"Notebook · {package_id} (read-only)"
    screenshot(page, "package-notebook-read-only")
    frame = next(f for f in page.frames if f.url.endswith("/view/notebook"))
    assert frame.evaluate("window.origin") == "null"  # sandboxed: no cookies, no API
    reached = frame.evaluate("fetch('/api/status').then(() => 'reached', () => 'blocked')")
    assert reached == "blocked"
    assert not (folder / ".ipynb_checkpoints").exists()
    assert verify_package(folder).ok
    # Tampered after it was listed: the badge follows within a relisting (every 5 s).
    (folder / ".ipynb_checkpoints").mkdir()
    badge = item.locator(".cmlops-badge")
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-run-item .cmlops-badge')"
        "?.textContent === 'verification failed'",
        timeout=30_000,
    )
    screenshot(page, "package-tampered-badge")
    (folder / ".ipynb_checkpoints").rmdir()
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-run-item .cmlops-badge')"
        "?.textContent === 'verified'",
        timeout=30_000,
    )
    assert badge.inner_text() == "verified"


def test_dark_theme_is_readable(page, lab):
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("document.body.dataset.jpThemeLight === 'false'", timeout=30_000)
    page.evaluate("window.jupyterapp.commands.execute('cmlops:open-sidebar')")
    sidebar = page.locator("#cmlops-sidebar")
    sidebar.locator(".cmlops-tab[data-tab='audit']").click()
    sidebar.locator(".cmlops-record").first.wait_for()
    # Filters: an action prefix narrows the list (newest first).
    action = sidebar.locator(".cmlops-filters input[name='action']")
    action.fill("lineage.*")
    action.press("Enter")
    action.dispatch_event("change")
    page.wait_for_function(
        "[...document.querySelectorAll('#cmlops-sidebar .cmlops-action')]"
        ".every(e => e.textContent.startsWith('lineage.'))"
    )
    seqs = [int(s.lstrip("#")) for s in sidebar.locator(".cmlops-seq").all_inner_texts()]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) > 1
    action.fill("")
    action.dispatch_event("change")
    sidebar.locator(".cmlops-verify").click()
    sidebar.locator(".cmlops-verdict.cmlops-ok").wait_for()
    sidebar.locator(".cmlops-verify-full").click()  # every record again, on demand
    page.wait_for_function(
        "document.querySelector('#cmlops-sidebar .cmlops-verdict').textContent"
        ".includes('records verified, head seq')"
    )
    colours = page.evaluate(
        """() => {
        const el = document.querySelector('#cmlops-sidebar .cmlops-action');
        const bg = getComputedStyle(document.querySelector('#cmlops-sidebar')).backgroundColor;
        return [getComputedStyle(el).color, bg];
    }"""
    )
    fg, bg = (_rgb(c) for c in colours)
    assert _contrast(fg, bg) >= 4.5, colours
    screenshot(page, "audit-dark")
    sidebar.locator(".cmlops-tab[data-tab='lineage']").click()
    screenshot(page, "lineage-dark")
    page.evaluate(
        "window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'})"
    )


def _rgb(text: str) -> tuple[float, float, float]:
    parts = text[text.index("(") + 1 : text.index(")")].split(",")
    return tuple(float(p) for p in parts[:3])


def _contrast(a, b) -> float:
    def luminance(rgb):
        def channel(c):
            c /= 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, bl = (channel(c) for c in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
