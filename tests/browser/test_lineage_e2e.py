"""End to end: a tracked cell that reads a CSV and fits a model shows up in the lineage panel;
the model node reads its class, and its details list the hyper-parameters the fit used."""

from __future__ import annotations

import json

import nbformat
import pytest

from tests.browser.conftest import open_lab, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

HOSTILE = "<img src=x onerror=window.__cmlopsPwned=1>"

KERNEL_IDLE = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && !w.sessionContext.pendingInput;
}"""


def write_inputs(root, name: str) -> None:
    # A hostile column name: it must appear as text, never run as HTML.
    rows = [f"age,sex,y,{HOSTILE}"] + [
        f"{30 + i % 40},{'F' if i % 2 else 'M'},{i % 3 == 0:d},{i}" for i in range(60)
    ]
    (root / "patients.csv").write_text("\n".join(rows) + "\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import pandas as pd\nfrom sklearn.linear_model import LogisticRegression"
        ),
        nbformat.v4.new_code_cell(
            "df = pd.read_csv('patients.csv')\n"
            "clf = LogisticRegression(C=0.25, max_iter=321).fit(df[['age']], df['y'])"
        ),
    ]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, root / name)


def run(page, command: str, args: dict | None = None):
    return page.evaluate(
        f"window.jupyterapp.commands.execute({json.dumps(command)}, {json.dumps(args or {})})"
    )


def test_tracked_cell_appears_in_lineage(browser, lab):
    write_inputs(lab.root, "e2e.ipynb")
    page = open_lab(browser, lab, "e2e.ipynb")
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        # "Track this cell" on the second cell toggles the magic on and off.
        run(page, "notebook:enter-command-mode")
        run(page, "notebook:move-cursor-down")
        run(page, "cmlops:track-cell")
        source = page.evaluate(
            "window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()"
        )
        assert source.startswith("%%cmlops_track\n")
        # Load the extension through the command, then the status bar knows.
        run(page, "cmlops:load-extension")
        page.wait_for_function(
            "document.querySelector('.cmlops-statusbar').dataset.loaded === 'true'",
            timeout=30_000,
        )
        run(page, "cmlops:open-sidebar")
        run(page, "notebook:run-all-cells")
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        )
        dataset = page.locator("#cmlops-sidebar .cmlops-node[data-kind='dataset']")
        model = page.locator("#cmlops-sidebar .cmlops-node[data-kind='model']")
        cell = page.locator("#cmlops-sidebar .cmlops-node[data-kind='cell']")
        dataset.first.wait_for(timeout=15_000)
        model.first.wait_for(timeout=15_000)
        assert cell.count() >= 1, errors.all_inner_texts()
        # Node details: fingerprint, columns and dtypes, who, as text.
        dataset.first.click()
        details = page.locator("#cmlops-sidebar .cmlops-node-details")
        details.wait_for()
        text = details.inner_text()
        if "age" not in text:  # the first dataset node may be the CSV file entity
            dataset.nth(1).click()
            text = details.inner_text()
        assert "age" in text and "int64" in text
        assert HOSTILE in text
        assert details.locator("img").count() == 0
        assert page.evaluate("window.__cmlopsPwned === undefined")
        # Trace the data set across notebooks and reports, then come back.
        page.locator("#cmlops-sidebar .cmlops-trace").click()
        caption = page.locator("#cmlops-sidebar .cmlops-caption")
        page.wait_for_function(
            "document.querySelector('#cmlops-sidebar .cmlops-caption').textContent"
            ".startsWith('Lineage of')"
        )
        assert page.locator("#cmlops-sidebar .cmlops-node").count() >= 2
        page.locator("#cmlops-sidebar .cmlops-back").click()
        page.wait_for_function(
            "document.querySelector('#cmlops-sidebar .cmlops-caption').textContent"
            ".startsWith('e2e.ipynb')"
        )
        assert "nodes" in caption.inner_text()
        # Renamed while tracked: the panel follows and still shows the earlier records.
        page.evaluate(
            "window.jupyterapp.serviceManager.contents.rename('e2e.ipynb', 'renamed.ipynb')"
        )
        page.wait_for_function(
            "document.querySelector('#cmlops-sidebar .cmlops-caption').textContent"
            ".startsWith('renamed.ipynb (renamed from e2e.ipynb)')",
            timeout=15_000,
        )
        model.first.wait_for()
        assert "e2e-tester" in text
        assert "Fingerprint" in text
        cell.first.click()
        assert "read_csv" in page.locator("#cmlops-sidebar .cmlops-code").inner_text()
        screenshot(page, "lineage-light")
        # Keyboard: a node can be focused and opened with Enter.
        model.first.focus()
        page.keyboard.press("Enter")
        assert page.locator("#cmlops-sidebar .cmlops-selected[data-kind='model']").count() == 1
        _model_shows_class_and_hyper_parameters(page, model.first)
    except Exception:
        screenshot(page, "lineage-failure")
        raise
    finally:
        page.context.close()


def _model_shows_class_and_hyper_parameters(page, node) -> None:
    """The model node's second line is its class; its details name the full class and list
    every recorded hyper-parameter with the value the fit used (as JSON text)."""
    assert node.locator(".cmlops-node-kind").text_content() == "LogisticRegression"
    inside = node.evaluate(
        """g => {
        const box = g.querySelector('.cmlops-node-kind').getBBox();
        return box.x + box.width <= g.querySelector('rect').getBBox().width;
    }"""
    )
    assert inside, "the class name runs out of its node"
    assert "sklearn.linear_model" in node.locator("title").text_content()
    details = page.locator("#cmlops-sidebar .cmlops-node-details")
    kv = dict(
        zip(
            details.locator(".cmlops-kv th").all_inner_texts(),
            details.locator(".cmlops-kv td").all_inner_texts(),
            strict=True,
        )
    )
    assert kv["Class"].endswith("LogisticRegression"), kv
    assert kv["Class"].startswith("sklearn.linear_model"), kv
    rows = details.locator(".cmlops-params tr")
    params = {}
    for i in range(1, rows.count()):  # row 0: the header
        name, value = rows.nth(i).locator("td").all_inner_texts()
        params[name] = value
    assert params["C"] == "0.25" and params["max_iter"] == "321", params
    assert params["solver"] == '"lbfgs"' and params["class_weight"] == "null", params
    heading = details.locator("h4").first.inner_text()
    assert heading == f"Hyper-parameters ({len(params)})"
    screenshot(page, "lineage-model-node")
