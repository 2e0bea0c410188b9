"""Report runs in a real kernel: packages, failures, hostile values, verify, zip safety."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from cmlops.reports.errors import PackageError, PackageExistsError, ParameterError
from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from tests.reports.conftest import ECHO_BODY, make_template

pytestmark = pytest.mark.kernel


@pytest.fixture
def echo_run(tmp_path: Path, echo_template: Path, store):
    return run_report(echo_template, {"n": "3"}, out=tmp_path / "pkg", store=store, progress=False)


@pytest.mark.req("REQ-PKG-001", "REQ-PLN-001")
def test_package_is_complete_and_verifies(echo_run, store) -> None:
    pkg = echo_run.package
    assert echo_run.status == "EXECUTED"
    names = {p.relative_to(pkg).as_posix() for p in pkg.rglob("*") if p.is_file()}
    assert {
        "manifest.json",
        "notebook.ipynb",
        "report.html",
        "results.json",
        "plan.json",
        "template.ipynb",
        "lineage.prov.json",
        "lineage.openlineage.json",
        "audit/trail.jsonl",
        "audit/verify.json",
        "audit/proofs.json",
    } <= names
    manifest = json.loads((pkg / "manifest.json").read_text())
    assert manifest["parameters"] == {"text": "hello", "n": 3}
    assert manifest["results"]["verdict"] == "PASS"
    assert manifest["results"]["criteria"][0]["value"] == 3.0
    assert manifest["audit"]["head_after"]["seq"] > manifest["audit"]["head_before"]["seq"]
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json"}
    html = (pkg / "report.html").read_text()
    assert "Audit package" in html and manifest["package_id"] in html
    assert manifest["plan"]["sha256"] in html and manifest["template"]["sha256"] in html
    assert "<script src=" not in html and "cdn" not in html.lower().split("<body")[0]
    result = verify_package(pkg)
    assert result.ok, result.lines()
    assert verify_package(echo_run.zip).ok
    # the plan hash was recorded before the run started
    actions = [r.action for r in store.records()]
    assert actions.index("plan.recorded") < actions.index("report.started")
    assert actions.index("report.finished") < actions.index("package.created")
    assert store.verify().ok
    started = store.records(action="report.started")[0].payload_dict()
    assert started["plan_sha256"] == manifest["plan"]["sha256"]


@pytest.mark.req("REQ-PKG-002")
def test_verify_names_modified_added_removed(echo_run) -> None:
    pkg = echo_run.package
    with open(pkg / "results.json", "a") as handle:
        handle.write(" ")
    (pkg / "extra.txt").write_text("x")
    (pkg / "lineage.prov.json").unlink()
    result = verify_package(pkg)
    assert not result.ok
    assert result.modified == ["results.json"]
    assert result.added == ["extra.txt"]
    assert result.removed == ["lineage.prov.json"]


@pytest.mark.req("REQ-PKG-003")
def test_verify_detects_edited_audit_extract(echo_run) -> None:
    trail = echo_run.package / "audit" / "trail.jsonl"
    lines = trail.read_text().splitlines()
    record = json.loads(lines[0])
    record["actor"] = "mallory"
    lines[0] = json.dumps(record)
    trail.write_text("\n".join(lines) + "\n")
    manifest_path = echo_run.package / "manifest.json"
    # even with the manifest's file hash updated, the record no longer matches its hash
    manifest = json.loads(manifest_path.read_text())
    from cmlops.reports.manifest import dumps, sha256_file

    for entry in manifest["files"]:
        if entry["path"] == "audit/trail.jsonl":
            entry["sha256"] = sha256_file(trail)
            entry["size"] = trail.stat().st_size
    manifest_path.write_bytes(dumps(manifest))
    result = verify_package(echo_run.package)
    assert any("its hash does not match its content" in p for p in result.problems)


@pytest.mark.req("REQ-PKG-005")
def test_existing_output_is_refused_unless_forced(echo_run, echo_template, store) -> None:
    with pytest.raises(PackageExistsError, match="--force"):
        run_report(echo_template, {}, out=echo_run.package, store=store, progress=False)
    again = run_report(
        echo_template, {"n": 2}, out=echo_run.package, force=True, store=store, progress=False
    )
    assert json.loads((again.package / "manifest.json").read_text())["parameters"]["n"] == 2
    assert not list(echo_run.package.parent.glob(".pkg.*"))


@pytest.mark.req("REQ-PAR-001")
def test_hostile_values_arrive_as_data_and_nothing_executes(
    tmp_path: Path, store, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = (
        "\"); __import__('os').system('touch pwned'); (\"\n'''\\ "
        "__import__('os').system('touch pwned') \u2028 é"
    )
    template = make_template(
        tmp_path / "h.ipynb",
        [
            "import json, pathlib\npathlib.Path('received.json').write_text(json.dumps(text))",
            *ECHO_BODY,
        ],
    )
    run = run_report(template, {"text": hostile}, out=tmp_path / "pkg", store=store, progress=False)
    assert run.status == "EXECUTED"
    assert json.loads((run.package / "received.json").read_text()) == hostile
    assert not list(tmp_path.rglob("pwned"))
    with pytest.raises(ParameterError, match="not a valid identifier"):
        run_report(template, {"text = 1\nimport os #": "x"}, out=tmp_path / "p2", store=store)
    assert not (tmp_path / "p2").exists()


@pytest.mark.req("REQ-PKG-004")
def test_failing_cell_gives_failed_package(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "f.ipynb", ["raise ValueError('boom')"])
    run = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    assert run.status == "FAILED"
    assert "ValueError: boom" in run.error
    manifest = json.loads((run.package / "manifest.json").read_text())
    assert manifest["error"]["type"] == "ValueError"
    assert verify_package(run.package).ok
    finished = store.records(action="report.finished")[0].payload_dict()
    assert finished["status"] == "FAILED"


@pytest.mark.req("REQ-PKG-004")
def test_killed_kernel_gives_failed_package(tmp_path: Path, store) -> None:
    template = make_template(
        tmp_path / "k.ipynb",
        ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "print('never')"],
    )
    run = run_report(
        template, {}, out=tmp_path / "pkg", store=store, progress=False, run_timeout=120
    )
    assert run.status == "FAILED"
    assert "died" in run.error.lower() or "dead" in run.error.lower()
    assert verify_package(run.package).ok


@pytest.mark.req("REQ-PKG-004")
def test_cell_timeout_gives_failed_package(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "s.ipynb", ["import time\ntime.sleep(60)"])
    run = run_report(
        template, {}, out=tmp_path / "pkg", store=store, progress=False, cell_timeout=2
    )
    assert run.status == "FAILED"
    assert "timed out" in run.error.lower() or "timeout" in run.error.lower()


def _zip_with(path: Path, name: str, *, symlink: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = 0o120777 << 16
        zf.writestr(info, "x")
    return path


@pytest.mark.parametrize(
    ("entry", "symlink"),
    [
        ("../evil.txt", False),
        ("/abs/evil.txt", False),
        ("pkg/../../evil.txt", False),
        ("pkg/link", True),
        ("C:/evil.txt", False),
    ],
)
@pytest.mark.req("REQ-PKG-006")
def test_unsafe_zip_is_refused_and_nothing_extracted(
    tmp_path: Path, entry: str, symlink: bool
) -> None:
    archive = _zip_with(tmp_path / "bad.zip", entry, symlink=symlink)
    with pytest.raises(PackageError, match="unsafe zip"):
        verify_package(archive)
    assert not (tmp_path.parent / "evil.txt").exists()
    assert not Path("/abs/evil.txt").exists()


@pytest.mark.req("REQ-PKG-004")
def test_watchdog_stops_a_run_over_its_time_limit(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "w.ipynb", ["import time\ntime.sleep(120)"])
    run = run_report(
        template,
        {},
        out=tmp_path / "pkg",
        store=store,
        progress=False,
        cell_timeout=None,
        run_timeout=3,
    )
    assert run.status == "FAILED"
    assert "time limit of 3 s" in run.error
    assert verify_package(run.package).ok


@pytest.mark.req("REQ-PKG-004")
def test_disk_full_mid_write_leaves_no_package(
    tmp_path: Path, echo_template: Path, store, monkeypatch
) -> None:
    import errno

    from cmlops.reports import package_assembly

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(package_assembly, "notebook_to_html", full)
    with pytest.raises(OSError, match="No space left"):
        run_report(echo_template, {}, out=tmp_path / "pkg", store=store, progress=False)
    assert not (tmp_path / "pkg").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pkg")]
    aborted = store.records(action="report.aborted")
    assert len(aborted) == 1 and "No space left" in aborted[0].payload_dict()["error"]


@pytest.mark.req("REQ-PKG-007")
def test_cover_escapes_hostile_values() -> None:
    from bs4 import BeautifulSoup

    from cmlops.reports.render import Cover, cover_html

    hostile = "<img src=x onerror=alert(1)> *b* `c` | [l](javascript:x)\r\nnext"
    cover = Cover(
        title=hostile,
        verdict=hostile,
        criteria=[
            {
                "id": hostile,
                "metric": "auroc",
                "subgroup": hostile,
                "op": ">=",
                "threshold": 0.7,
                "value": 0.8,
                "outcome": "PASS",
                "reason": hostile,
            }
        ],
        context={"question": hostile},
        parameters={"p": hostile},
        facts=[("plan", hostile)],
    )
    soup = BeautifulSoup(cover_html(cover), "html.parser")
    assert not soup.find_all("img") and not soup.find_all("a")
    text = soup.get_text()
    assert "\r" not in text and "\n" not in text  # a CR never breaks a table row
    assert "<img src=x onerror=alert(1)>" in text  # shown literally


@pytest.mark.req("REQ-PKG-003")
def test_verify_checks_plan_and_results_against_manifest(echo_run) -> None:
    """Even with file hashes rewritten, the manifest's plan hash and results must match."""
    from cmlops.reports.manifest import dumps, sha256_file

    pkg = echo_run.package
    (pkg / "plan.json").write_text('{"plan_id":"other","criteria":[]}')
    results = json.loads((pkg / "results.json").read_text())
    results["verdict"] = "FAIL"
    (pkg / "results.json").write_text(json.dumps(results))
    manifest = json.loads((pkg / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] in ("plan.json", "results.json"):
            entry["sha256"] = sha256_file(pkg / entry["path"])
            entry["size"] = (pkg / entry["path"]).stat().st_size
    (pkg / "manifest.json").write_bytes(dumps(manifest))
    result = verify_package(pkg)
    assert "manifest does not match plan" in result.problems
    assert "manifest does not match results" in result.problems
    assert not result.modified


@pytest.mark.req("REQ-PKG-004")
def test_abandoned_run_is_packaged_from_a_snapshot(tmp_path: Path) -> None:
    """A run the watchdog gave up on is assembled from a copy its thread cannot reach."""
    from cmlops.reports.runner import _snapshot

    work = tmp_path / ".pkg.partial-abc"
    (work / "audit").mkdir(parents=True)
    (work / "notebook.ipynb").write_text("{}")
    (work / "audit" / "x.txt").write_text("x")
    fresh = _snapshot(work, tmp_path / "pkg")
    assert not work.exists()
    assert fresh.parent == tmp_path and fresh.name.startswith(".pkg.partial-")
    assert (fresh / "notebook.ipynb").read_text() == "{}"
    assert (fresh / "audit" / "x.txt").read_text() == "x"


@pytest.mark.req("REQ-PKG-001")
def test_manifest_records_the_kernel_that_ran(
    tmp_path: Path, echo_template: Path, store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platform
    import sys

    spec_dir = tmp_path / "jupyter" / "kernels" / "cmlops-test-kernel"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cmlops test kernel",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    run = run_report(
        echo_template,
        {"n": "3"},
        out=tmp_path / "pkg",
        store=store,
        progress=False,
        kernel_name="cmlops-test-kernel",
    )
    assert run.status == "EXECUTED", run.error
    recorded = json.loads((run.package / "manifest.json").read_text())["run"]
    assert recorded["kernel"] == "cmlops-test-kernel"
    assert recorded["kernel_spec"] == {
        "name": "cmlops-test-kernel",
        "display_name": "cmlops test kernel",
        "language": "python",
        "executable": sys.executable,
        "language_version": platform.python_version(),
    }
    assert verify_package(run.package).ok


def test_manifest_kernel_of_a_template_default_run(echo_run) -> None:
    recorded = json.loads((echo_run.package / "manifest.json").read_text())["run"]
    assert recorded["kernel"] == "python3"
    assert recorded["kernel_spec"]["name"] == "python3"
    assert recorded["kernel_spec"]["language_version"]


def test_progress_comes_from_the_runners_cell_hooks(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "p.ipynb", ["a = 1", "", "b = 2", "c = 3"])
    calls: list[tuple[int, int]] = []
    run = run_report(
        template,
        {},
        out=tmp_path / "pkg",
        store=store,
        progress=False,
        on_cell=lambda done, total: calls.append((done, total)),
    )
    assert run.status == "EXECUTED", run.error
    # the parameters cell, Papermill's injected parameters cell and three non-empty cells
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_a_failing_progress_hook_never_fails_the_run(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "p.ipynb", ["a = 1"])

    def broken(done: int, total: int) -> None:
        raise RuntimeError("display went away")

    run = run_report(
        template, {}, out=tmp_path / "pkg", store=store, progress=False, on_cell=broken
    )
    assert run.status == "EXECUTED", run.error


def test_audit_extract_keeps_the_alerts_of_results_the_run_made(tmp_path: Path, store) -> None:
    template = make_template(
        tmp_path / "m.ipynb",
        [
            "%load_ext cmlops",
            "%%cmlops_track monitoring\n"
            "import numpy as np, pandas as pd, cmlops\n"
            "x = np.random.default_rng(0).normal(size=600)\n"
            "x[300:] += 2.0\n"
            "frame = pd.DataFrame({'t': pd.date_range('2024-01-01', periods=600), 'x': x})\n"
            "mon = cmlops.monitor(frame, time='t', window=100)\n"
            "cmlops.record_alerts(mon)",
        ],
    )
    run = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    assert run.status == "EXECUTED", run.error
    alerts = store.records(action="monitor.alert")
    assert alerts
    lines = (run.package / "audit" / "trail.jsonl").read_text().splitlines()
    extracted = [json.loads(line) for line in lines]
    assert sorted(r["seq"] for r in extracted if r["action"] == "monitor.alert") == [
        r.seq for r in alerts
    ]
    assert verify_package(run.package).ok
