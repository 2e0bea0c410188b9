"""Hostile packages and inputs: one-line errors, limits enforced while extracting, every
added entry reported by verify (files, folders, links, FIFOs)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from cmlops.reports.errors import PackageError, ParameterError
from cmlops.reports.package import zip_package
from cmlops.reports.parameters import ParamSpec, validate_parameters
from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory):
    """One real echo-template run shared by the module (a kernel run is the slow part)."""
    from cmlops.store import open_store
    from tests.reports.conftest import ECHO_BODY, SRC, make_template

    root = tmp_path_factory.mktemp("hostile")
    template = make_template(root / "echo.ipynb", ECHO_BODY)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), saved) if p)
    store = open_store(home=root / ".cmlops")
    try:
        run = run_report(template, {}, out=root / "pkg", store=store, progress=False)
    finally:
        store.close()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    assert run.ok, run.error
    return run


def _copy(run, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(run.package, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    target.chmod(0o755)
    return target


@pytest.mark.req("REQ-PKG-006")
def test_corrupt_zip_is_a_one_line_error(package, tmp_path: Path) -> None:
    data = bytearray(package.zip.read_bytes())
    with zipfile.ZipFile(package.zip) as zf:
        info = zf.getinfo(f"{package.package.name}/notebook.ipynb")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data[offset] ^= 0xFF  # one flipped byte inside the compressed notebook
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    with pytest.raises(PackageError, match=r"damaged zip|neither a package") as caught:
        verify_package(damaged)
    assert "\n" not in str(caught.value)


@pytest.mark.req("REQ-PKG-006")
def test_zip_bomb_is_refused_before_filling_the_disk(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("pkg/manifest.json", b"0" * (50 * 1024 * 1024))  # ~1000-fold
    with pytest.raises(PackageError, match=r"zip bomb|expands"):
        verify_package(bomb)


@pytest.mark.req("REQ-PKG-006")
def test_zip_that_lies_about_sizes_is_stopped_while_extracting(tmp_path: Path) -> None:
    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(lying, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("pkg/manifest.json", b"{}" + b" " * 4096)
    raw = bytearray(lying.read_bytes())
    # shrink the declared uncompressed size in the central directory to 10 bytes
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    lying.write_bytes(bytes(raw))
    with pytest.raises(PackageError):
        verify_package(lying)


@pytest.mark.req("REQ-PKG-006")
def test_too_many_entries_is_refused(tmp_path: Path) -> None:
    from cmlops.reports import package as package_module

    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(package_module.MAX_ZIP_ENTRIES + 1):
            zf.writestr(f"pkg/f{i}", b"")
    with pytest.raises(PackageError, match="entries"):
        verify_package(many)


def test_not_a_zip_and_a_fifo_are_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    fifo = tmp_path / "fifo.zip"
    os.mkfifo(fifo)
    for path in (junk, fifo):
        with pytest.raises(PackageError):
            verify_package(path)


@pytest.mark.req("REQ-PKG-002")
def test_verify_reports_every_added_entry(package, tmp_path: Path) -> None:
    pkg = _copy(package, tmp_path)
    (pkg / ".ipynb_checkpoints").mkdir()
    (pkg / ".ipynb_checkpoints" / "notebook-checkpoint.ipynb").write_text("{}")
    (pkg / "empty-dir").mkdir()
    os.mkfifo(pkg / "pipe")
    (pkg / "link").symlink_to("/etc/passwd")
    result = verify_package(pkg)
    assert not result.ok
    assert set(result.added) >= {
        ".ipynb_checkpoints (directory)",
        ".ipynb_checkpoints/notebook-checkpoint.ipynb",
        "empty-dir (directory)",
        "pipe (FIFO)",
        "link (symbolic link)",
    }


@pytest.mark.req("REQ-PKG-002")
def test_listed_file_replaced_by_a_fifo_is_reported_not_read(package, tmp_path: Path) -> None:
    pkg = _copy(package, tmp_path)
    (pkg / "results.json").unlink()
    os.mkfifo(pkg / "results.json")
    result = verify_package(pkg)  # would block forever if the FIFO were opened
    assert "results.json (now a FIFO)" in result.modified


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("files", [{"path": 5, "sha256": "0" * 64, "size": 1}]),
        ("files", [{"path": "../escape", "sha256": "0" * 64, "size": 1}]),
        ("template", {"name": "t", "sha256": "0" * 64, "file": ["x"]}),
        ("audit", {"head_before": None, "head_after": None, "extract": 7, "verify": "v"}),
        ("results", {"verdict": 1, "criteria": "all"}),
        ("inputs", [{"parameter": 1, "path": None, "sha256": "x", "fingerprint": 2}]),
    ],
)
@pytest.mark.req("REQ-PKG-006")
def test_manifest_with_unexpected_types_fails_verification(
    package, tmp_path: Path, field, value
) -> None:
    pkg = _copy(package, tmp_path)
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest[field] = value
    (pkg / "manifest.json").write_text(json.dumps(manifest))
    result = verify_package(pkg)
    assert not result.ok and any(p.startswith("manifest:") for p in result.problems)


@pytest.mark.req("REQ-PKG-006")
def test_deeply_nested_manifest_is_a_one_line_error(package, tmp_path: Path) -> None:
    pkg = _copy(package, tmp_path)
    (pkg / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(PackageError, match="not valid JSON"):
        verify_package(pkg)


def test_zip_of_a_verified_package_still_verifies(package, tmp_path: Path) -> None:
    pkg = _copy(package, tmp_path)
    archive = zip_package(pkg, tmp_path / "again.zip")
    assert verify_package(archive).ok


def test_path_parameter_naming_a_folder_or_fifo(tmp_path: Path) -> None:
    spec = [ParamSpec(name="data", type="path", required=True)]
    with pytest.raises(ParameterError, match="is a folder"):
        validate_parameters(spec, {"data": str(tmp_path)})
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(ParameterError, match="not a regular file"):
        validate_parameters(spec, {"data": str(tmp_path / "pipe.csv")})
    with pytest.raises(ParameterError, match="not found"):
        validate_parameters(spec, {"data": str(tmp_path / "absent.csv")})
