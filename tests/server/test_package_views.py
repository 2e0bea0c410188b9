"""The sidebar's read-only package views: served sandboxed, never writing into the package;
the listing's "verified" verdict follows the package's files, never stale."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from cmlops.server.package_views import fingerprint
from cmlops.store import open_store
from tests.reports.conftest import ECHO_BODY, SRC, make_template

pytestmark = pytest.mark.kernel

REMOTE = "from IPython.display import HTML\nHTML('<img src=\"https://tracker.example/p.png\">')"


@pytest.fixture
def package(tmp_path: Path, packages_dir: Path, store_home: Path, monkeypatch) -> Path:
    monkeypatch.setenv("PYTHONPATH", str(SRC))
    monkeypatch.setenv("CMLOPS_DISPLAY", "static")
    template = make_template(tmp_path / "echo.ipynb", [*ECHO_BODY, REMOTE])
    with open_store(home=store_home) as store:
        run = run_report(template, {"text": "view me"}, out=packages_dir / "pkg-1", store=store)
    assert run.ok, run.error
    return run.package


async def _listed(jp_fetch, package_id: str) -> dict:
    response = await jp_fetch("cmlops", "api", "packages")
    return next(p for p in json.loads(response.body)["packages"] if p["id"] == package_id)


async def _status(jp_fetch, *parts) -> int:
    try:
        return (await jp_fetch(*parts)).code
    except HTTPClientError as error:
        return error.code


@pytest.mark.req("REQ-PKG-010")
async def test_views_are_sandboxed_pages_that_write_nothing(jp_fetch, package: Path):
    before = fingerprint(package)
    report = await jp_fetch("cmlops", "api", "packages", package.name, "view", "report")
    notebook = await jp_fetch("cmlops", "api", "packages", package.name, "view", "notebook")
    for response in (report, notebook):
        assert response.headers["Content-Type"].startswith("text/html")
        policy = response.headers["Content-Security-Policy"]
        assert policy.startswith("sandbox allow-scripts;") and "allow-same-origin" not in policy
        assert "default-src 'none'" in policy and "connect-src 'none'" in policy
        assert response.headers["Cache-Control"] == "no-store"
    page = report.body.decode()
    assert "Verdict:" in page and "view me" in page
    code = notebook.body.decode()
    text = html.unescape(re.sub(r"<[^>]+>", "", code))
    assert "report = ReportContext.start(cmlops_output_dir)" in text  # the code is shown
    assert not re.search(r"<img[^>]*(?<![\w-])src=\"https://tracker", code)
    assert "data-cmlops-blocked-src" in code and "Remote resources blocked" in code
    assert fingerprint(package) == before  # nothing added, changed or touched
    assert not (package / ".ipynb_checkpoints").exists()
    assert verify_package(package).ok


@pytest.mark.req("REQ-PKG-010")
async def test_badge_follows_the_files_never_stale(jp_fetch, package: Path):
    listed = await _listed(jp_fetch, package.name)
    assert listed["verified"] is True and listed["views"] == ["report", "notebook"]
    assert listed["status"] == "EXECUTED"
    # tamper after the listing: an added checkpoint folder, as JupyterLab would make
    (package / ".ipynb_checkpoints").mkdir()
    listed = await _listed(jp_fetch, package.name)
    assert listed["verified"] is False
    assert listed["problem"] == "added: .ipynb_checkpoints (directory)"
    (package / ".ipynb_checkpoints").rmdir()
    assert (await _listed(jp_fetch, package.name))["verified"] is True
    # rewrite a file with the same size and put its modification time back
    path = package / "results.json"
    info = path.stat()
    text = path.read_text()
    path.write_text(text.replace('"PASS"', '"FAIL"'))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    listed = await _listed(jp_fetch, package.name)
    assert listed["verified"] is False and listed["problem"] == "modified: results.json"
    page = (await jp_fetch("cmlops", "api", "packages", package.name, "view", "report")).body
    assert b"This package FAILS verification" in page


async def test_view_names_and_links_are_refused(jp_fetch, package: Path, packages_dir: Path):
    assert await _status(jp_fetch, "cmlops", "api", "packages", package.name, "view", "x") == 404
    assert await _status(jp_fetch, "cmlops", "api", "packages", "..", "view", "report") in (
        400,
        404,
    )
    assert await _status(jp_fetch, "cmlops", "api", "packages", "nope", "view", "report") == 404
    # a package whose report is a link to a file outside: never served
    linked = packages_dir / "linked"
    shutil.copytree(package, linked, symlinks=True)
    (linked / "report.html").chmod(0o644)
    linked.chmod(0o755)
    (linked / "report.html").unlink()
    (linked / "report.html").symlink_to("/etc/passwd")
    assert await _status(jp_fetch, "cmlops", "api", "packages", "linked", "view", "report") == 404
    listed = await _listed(jp_fetch, "linked")
    assert listed["views"] == ["notebook"] and listed["verified"] is False
