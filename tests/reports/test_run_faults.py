"""Runs that never lose evidence, each fault in real processes.

Ctrl-C (SIGINT to the process group of a running ``cmlops report run``) and
SIGTERM leave an ABORTED package and a ``report.aborted`` record; an input
replaced while the run reads it makes the run FAILED naming the file; a cell
timeout names the cell and the limit; a remote image in an output is
neutralised and flagged, the run kept; reproduce works with optional path
parameters left at their default.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from tests.reports.conftest import SRC, make_template

pytestmark = pytest.mark.kernel

CLI = [sys.executable, "-c", "from cmlops.cli import main; main()"]

#: a template whose second body cell waits: the signal arrives while it runs
SLOW_BODY = [
    "from pathlib import Path\nPath(marker).write_text('first cell ran')",
    "import time\nPath(marker + '.waiting').write_text('x')\ntime.sleep(120)",
    "print('never printed')",
]


def _slow_template(tmp_path: Path) -> Path:
    return make_template(
        tmp_path / "slow.ipynb",
        SLOW_BODY,
        parameters=[{"name": "marker", "type": "str", "default": "", "description": "a file"}],
        defaults="marker = ''",
    )


def _start_cli(tmp_path: Path, template: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "CMLOPS_HOME": str(tmp_path / ".cmlops"), "PYTHONPATH": str(SRC)}
    marker = tmp_path / "marker"
    return subprocess.Popen(
        [
            *CLI,
            "report",
            "run",
            str(template),
            "--no-progress",
            *("--out", str(out)),
            "-p",
            f"marker={marker}",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell job
    )


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.1)


def _records(tmp_path: Path, action: str) -> list[dict]:
    from cmlops.store import open_store

    store = open_store(home=tmp_path / ".cmlops")
    try:
        return [
            {**r.payload_dict(), "_object": r.object_id, "_reason": r.reason}
            for r in store.records(action=action)
        ]
    finally:
        store.close()


def _assert_aborted(tmp_path: Path, out: Path, proc: subprocess.Popen, sig: signal.Signals):
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 128 + int(sig), (stdout, stderr)
    assert f"{sig.name}: stopping the run" in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "ABORTED" in errors[0] and "Traceback" not in stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "ABORTED"
    assert manifest["error"]["type"] == "Aborted"
    message = manifest["error"]["message"]
    assert f"stopped by {sig.name} during code cell 4 (`import time`)" in message
    notebook = nbformat.read(str(out / "notebook.ipynb"), as_version=4)
    index = manifest["error"]["cell_index"]
    assert "time.sleep(120)" in notebook.cells[index].source
    texts = json.dumps([c.get("outputs", []) for c in notebook.cells])
    assert "never printed" not in texts
    assert (tmp_path / "marker").read_text() == "first cell ran"  # what ran is kept
    result = verify_package(out)
    assert result.ok, result.lines()
    assert (out.parent / (out.name + ".zip")).is_file()
    assert verify_package(out.parent / (out.name + ".zip")).ok
    aborted = _records(tmp_path, "report.aborted")
    assert len(aborted) == 1 and aborted[0]["signal"] == sig.name
    assert aborted[0]["package_follows"] is True and aborted[0]["_object"] == manifest["package_id"]
    finished = _records(tmp_path, "report.finished")
    assert [f["status"] for f in finished] == ["ABORTED"]
    assert len(_records(tmp_path, "package.created")) == 1
    trail = (out / "audit" / "trail.jsonl").read_text()
    assert '"report.aborted"' in trail  # the package carries the record of its own abort


@pytest.mark.req("REQ-PKG-009")
def test_sigint_to_the_process_group_leaves_an_aborted_package(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    proc = _start_cli(tmp_path, _slow_template(tmp_path), out)
    _wait_for(tmp_path / "marker.waiting", proc)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _assert_aborted(tmp_path, out, proc, signal.SIGINT)


@pytest.mark.req("REQ-PKG-009")
def test_sigterm_leaves_an_aborted_package(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    proc = _start_cli(tmp_path, _slow_template(tmp_path), out)
    _wait_for(tmp_path / "marker.waiting", proc)
    proc.send_signal(signal.SIGTERM)  # what a scheduler or a shutdown sends
    _assert_aborted(tmp_path, out, proc, signal.SIGTERM)


def test_aborted_package_cannot_be_approved(tmp_path: Path) -> None:
    from cmlops.reports.status import package_status

    assert package_status("ABORTED", True, ["reviewed", "approved"]) == "ABORTED"
    assert package_status("FAILED", True, ["reviewed", "approved"]) == "FAILED"
    assert package_status("EXECUTED", True, ["reviewed", "approved"]) == "approved"


@pytest.mark.req("REQ-PKG-009")
def test_input_replaced_during_the_run_fails_naming_it(tmp_path: Path, store) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n2\n")
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    # the kernel (another process) replaces the file after it was hashed, then reads it
    body = [
        "import os, pandas as pd\n"
        "tmp = data + '.new'\n"
        "open(tmp, 'w').write('x\\n7\\n8\\n9\\n')\n"
        "os.replace(tmp, data)\n"
        "frame = pd.read_csv(data)",
        "from cmlops.reports.notebook import ReportContext\n"
        "report = ReportContext.start(cmlops_output_dir)\n"
        "report.metrics['n'] = len(frame)\n"
        "report.finish()",
    ]
    template = make_template(
        tmp_path / "t.ipynb",
        body,
        parameters=[{"name": "data", "type": "path", "required": True, "description": "csv"}],
        defaults="data = ''",
    )
    run = run_report(
        template, {"data": str(data)}, out=tmp_path / "pkg", store=store, progress=False
    )
    after = hashlib.sha256(data.read_bytes()).hexdigest()
    assert run.status == "FAILED"
    assert "input file changed during the run: data" in run.error and str(data) in run.error
    manifest = json.loads((run.package / "manifest.json").read_text())
    assert manifest["inputs"][0]["sha256"] == before  # what was recorded before the run
    assert manifest["error"]["type"] == "InputChanged"
    assert manifest["error"]["inputs"] == [
        {"parameter": "data", "path": str(data), "sha256_before": before, "sha256_after": after}
    ]
    assert "input file changed" in (run.package / "report.html").read_text()
    assert verify_package(run.package).ok
    finished = store.records(action="report.finished")[0].payload_dict()
    assert finished["status"] == "FAILED" and finished["error"]["type"] == "InputChanged"


@pytest.mark.req("REQ-PKG-009")
def test_input_removed_during_the_run_fails(tmp_path: Path, store) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    template = make_template(
        tmp_path / "t.ipynb",
        ["import os\nos.remove(data)"],
        parameters=[{"name": "data", "type": "path", "required": True, "description": "csv"}],
        defaults="data = ''",
    )
    run = run_report(
        template, {"data": str(data)}, out=tmp_path / "pkg", store=store, progress=False
    )
    assert run.status == "FAILED"
    assert run.manifest["error"]["inputs"][0]["sha256_after"] is None


def test_unchanged_inputs_keep_the_run_executed(tmp_path: Path, store) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    template = make_template(
        tmp_path / "t.ipynb",
        ["import pandas as pd\nframe = pd.read_csv(data)"],
        parameters=[{"name": "data", "type": "path", "required": True, "description": "csv"}],
        defaults="data = ''",
    )
    run = run_report(
        template, {"data": str(data)}, out=tmp_path / "pkg", store=store, progress=False
    )
    assert run.status == "EXECUTED" and run.manifest["error"] is None


@pytest.mark.req("REQ-PKG-009")
def test_cell_timeout_names_the_cell_and_the_limit(tmp_path: Path, store) -> None:
    template = make_template(
        tmp_path / "s.ipynb", ["x = 1", "import time\ntime.sleep(60)", "print('after')"]
    )
    run = run_report(
        template, {}, out=tmp_path / "pkg", store=store, progress=False, cell_timeout=2
    )
    assert run.status == "FAILED"
    error = run.manifest["error"]
    assert error["type"] == "CellTimeoutError"
    # Papermill's injected parameters cell comes first: the template's cells are code cells 2+
    assert "code cell 4 (`import time`)" in error["message"]
    assert "cell time limit of 2 s" in error["message"] and "-----" not in error["message"]
    notebook = nbformat.read(str(run.package / "notebook.ipynb"), as_version=4)
    assert "time.sleep(60)" in notebook.cells[error["cell_index"]].source
    assert verify_package(run.package).ok


REMOTE_OUTPUTS = [
    "from IPython.display import HTML, Markdown, display\n"
    "display(HTML('<p>logo</p><img src=\"https://tracker.example/pixel.png?run=1\">'"
    "'<img srcset=\"https://cdn.example/a.png 1x, b.png 2x\">'"
    '\'<link rel="stylesheet" href="//cdn.example/theme.css">\''
    "'<div style=\"background:url(&quot;https://img.example/bg.png&quot;)\">bg</div>'"
    "'<a href=\"https://guidance.example/gmlp\">GMLP guidance</a>'))",
]


@pytest.mark.req("REQ-PKG-009")
def test_remote_image_is_neutralised_and_flagged_not_a_lost_run(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "r.ipynb", REMOTE_OUTPUTS)
    nb = nbformat.read(str(template), as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("![chart](HTTPS://charts.example/c.png)"))
    nbformat.write(nb, str(template))
    run = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    assert run.status == "EXECUTED", run.error
    urls = {r["url"] for r in run.manifest["remote_resources"]}
    assert {
        "https://tracker.example/pixel.png?run=1",
        "https://cdn.example/a.png 1x, b.png 2x",
        "//cdn.example/theme.css",
        "https://img.example/bg.png",
        "HTTPS://charts.example/c.png",
    } <= urls
    assert not any("guidance.example" in u for u in urls)  # a hyperlink is not a load
    page = (run.package / "report.html").read_text()
    assert "Remote resources blocked" in page
    assert "Content-Security-Policy" in page.split("</head>")[0]
    for host in ("tracker.example", "cdn.example", "img.example", "charts.example"):
        assert not re.search(rf"(?<![\w-])(src|srcset|href)=[\"']?(https:)?//{host}", page, re.I)
    assert 'href="https://guidance.example/gmlp"' in page
    assert verify_package(run.package).ok
    _no_network_in_chromium(run.package / "report.html", tmp_path)


def _no_network_in_chromium(page: Path, tmp_path: Path) -> None:
    """Open the report from disk in a real Chromium: nothing is requested from the network."""
    from tests.chromium import chromium

    requested: list[str] = []
    with chromium() as browser:
        context = browser.new_context()

        def record(route) -> None:
            if route.request.url.startswith("file:"):
                route.continue_()  # the report itself
            else:
                requested.append(route.request.url)
                route.abort()

        context.route("**/*", record)
        tab = context.new_page()
        tab.goto(page.as_uri())
        tab.wait_for_load_state("load")
        assert "Remote resources blocked" in tab.inner_text("body")
        tab.screenshot(path=str(tmp_path / "remote-blocked.png"))
        context.close()
    assert [url for url in requested if not url.startswith(("data:", "blob:"))] == []


@pytest.mark.req("REQ-PKG-008")
def test_reproduce_with_optional_path_parameters_left_at_their_default(tmp_path: Path) -> None:
    """data_validation's ``schema`` is an optional path: a package that kept its
    default (null) reproduces from the command line."""
    data = tmp_path / "data.csv"
    data.write_text(
        "id,age,sex\n" + "".join(f"{i},{50 + i % 30},{'FM'[i % 2]}\n" for i in range(60))
    )
    env = {**os.environ, "CMLOPS_HOME": str(tmp_path / ".cmlops"), "PYTHONPATH": str(SRC)}
    reference = tmp_path / "reference.csv"
    reference.write_bytes(data.read_bytes())
    given = ("-p", f"data={data}", "-p", f"reference={reference}")
    out = ("--out", str(tmp_path / "pkg"))
    run = subprocess.run(
        [*CLI, "report", "run", "data_validation", "--no-progress", *given, *out],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    manifest = json.loads((tmp_path / "pkg" / "manifest.json").read_text())
    assert manifest["parameters"]["schema"] is None
    again = subprocess.run(
        [*CLI, "package", "reproduce", str(tmp_path / "pkg"), "--out", str(tmp_path / "again")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "REPRODUCIBLE" in again.stdout


@pytest.mark.req("REQ-PKG-008")
def test_recorded_parameters_of_every_template_validate_again(tmp_path: Path) -> None:
    """What the runner records for any shipped template (defaults included) is accepted
    again by the validator: reproduce never fails on a package the runner can write."""
    from cmlops.reports.catalogue import list_templates
    from cmlops.reports.parameters import validate_parameters

    data = tmp_path / "data.csv"
    data.write_text("x\n1\n")
    for tpl in list_templates():
        files = ("path", "dataset")
        given = {s.name: str(data) for s in tpl.parameters if s.required and s.type in files}
        given.update({s.name: "x" for s in tpl.parameters if s.required and s.type not in files})
        values = validate_parameters(tpl.parameters, given, template=tpl.name)
        recorded = json.loads(json.dumps(values))  # as the manifest stores them
        assert validate_parameters(tpl.parameters, recorded, template=tpl.name) == values, tpl.name
