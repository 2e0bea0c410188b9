"""``--force`` replaces only an unsigned cmlops package of the same store — nothing else."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from cmlops.reports.errors import PackageExistsError
from cmlops.reports.runner import run_report

pytestmark = pytest.mark.kernel


def _run(template: Path, out: Path, store, **kw):
    return run_report(template, {}, out=out, store=store, progress=False, **kw)


@pytest.mark.req("REQ-PKG-005")
def test_force_never_replaces_a_project_folder(tmp_path: Path, echo_template, store) -> None:
    project = tmp_path / "project"
    (project / ".cmlops").mkdir(parents=True)
    (project / "analysis.ipynb").write_text("{}")
    (project / "data.csv").write_text("a\n1\n")
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    with pytest.raises(PackageExistsError, match="only an unsigned cmlops package"):
        _run(echo_template, project, store, force=True)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


@pytest.mark.req("REQ-PKG-005")
def test_force_never_replaces_a_package_holding_extra_files(
    tmp_path: Path, echo_template, store
) -> None:
    first = _run(echo_template, tmp_path / "pkg", store)
    shutil.copytree(tmp_path / ".cmlops", first.package / "nested-store")  # a store inside
    with pytest.raises(PackageExistsError, match="not part of the package"):
        _run(echo_template, first.package, store, force=True)
    assert (first.package / "nested-store").is_dir()


@pytest.mark.req("REQ-PKG-005")
def test_force_never_replaces_another_stores_package(tmp_path: Path, echo_template, store):
    from cmlops.store import open_store

    other = open_store(home=tmp_path / "other" / ".cmlops")
    try:
        foreign = _run(echo_template, tmp_path / "pkg", other)
    finally:
        other.close()
    with pytest.raises(PackageExistsError, match="another audit store"):
        _run(echo_template, foreign.package, store, force=True)
    assert (foreign.package / "manifest.json").is_file()


@pytest.mark.req("REQ-PKG-005")
def test_force_replaces_this_stores_unsigned_package(tmp_path: Path, echo_template, store):
    first = _run(echo_template, tmp_path / "pkg", store)
    again = _run(echo_template, first.package, store, force=True)
    assert again.manifest["package_id"] != first.manifest["package_id"]
    # the zip gets the permissions of the folder's files (the umask, or read-only)
    files = {stat.S_IMODE(p.stat().st_mode) for p in again.package.rglob("*") if p.is_file()}
    zip_mode = stat.S_IMODE(again.zip.stat().st_mode)
    assert zip_mode & 0o444 and zip_mode & 0o077 == max(files) & 0o077
