"""The archival copy: a PDF/A-3b of the report with its figures and the manifest embedded.

Conformance is checked by a PDF/A validator from PyPI, ``page-validation`` (the
PDF/A-3B profile of the ``page`` checker; veraPDF is a Maven artefact, unreachable
here), and by the structural checks below, made with pikepdf (qpdf): the XMP
identification, the output intent and its ICC profile, every font embedded, no
JavaScript, no encryption, the associated file with its AFRelationship, and the
figures drawn.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from cmlops.reports.archival import PDF, pre_pdf_manifest, read_pdf, render_pdf
from cmlops.reports.manifest import dumps, sha256_file
from cmlops.reports.verify import verify_package
from tests.reports.conftest import ECHO_BODY, SRC, make_template

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

CLI = [sys.executable, "-c", "from cmlops.cli import main; main()"]

FIGURE_BODY = [
    *ECHO_BODY,
    "import numpy as np, pandas as pd, cmlops\n"
    "rng = np.random.default_rng(1)\n"
    "a = pd.DataFrame({'age': rng.normal(60, 10, 300), 'sex': rng.choice(['F', 'M'], 300)})\n"
    "b = a.assign(age=rng.normal(66, 10, 300))\n"
    "cmlops.drift(a, b)",
]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CMLOPS_HOME": str(tmp_path / ".cmlops"), "PYTHONPATH": str(SRC)}
    env["CMLOPS_DISPLAY"] = "static"
    return subprocess.run(
        [*CLI, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )


def assert_pdf_a3b(path: Path, manifest: dict, figures: int) -> None:
    """PDF/A-3b (ISO 19005-3) by the validator and by structural checks with pikepdf, and
    the embedded manifest."""
    import page

    report = page.validate_pdf(str(path), profile=page.ValidationProfile.PDF_A_3B)
    assert report.is_compliant, [(f.rule_id, f.message) for f in report.failures]
    embedded, facts = read_pdf(path)
    assert facts == {"part": "3", "conformance": "B", "relationship": "/Data"}
    assert embedded == dumps(pre_pdf_manifest(manifest))  # the pre-PDF manifest, exactly
    with pikepdf.open(path) as pdf:
        assert not pdf.is_encrypted
        assert pdf.pdf_version >= "1.4"
        intents = pdf.Root.OutputIntents
        assert any(str(i.S) == "/GTS_PDFA1" and "/DestOutputProfile" in i for i in intents)
        assert "/Metadata" in pdf.Root  # XMP packet
        names = pdf.Root.get("/Names", {})
        assert "/JavaScript" not in names and "/OpenAction" not in pdf.Root
        # WeasyPrint lists the one file specification twice in /AF: the same object
        related = {(f.objgen, str(f.F), str(f.get("/AFRelationship"))) for f in pdf.Root.AF}
        assert [(name, rel) for _id, name, rel in related] == [("manifest.json", "/Data")]
        fonts, images = 0, 0
        for page in pdf.pages:
            resources = page.obj.get("/Resources", {})
            for font in resources.get("/Font", {}).values():
                fonts += 1
                descendants = font.get("/DescendantFonts", [font])
                for item in descendants:
                    descriptor = item.get("/FontDescriptor")
                    assert descriptor is not None, "a font without descriptor"
                    assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            images += len(page.get_images())
        assert fonts > 0
        assert images >= figures, (images, figures)
        assert len(pdf.pages) >= 2


@pytest.mark.req("REQ-PKG-011")
def test_report_run_pdf_lists_and_verifies_the_archival_copy(tmp_path: Path) -> None:
    template = make_template(tmp_path / "fig.ipynb", FIGURE_BODY)
    out = tmp_path / "pkg"
    run = _cli(
        tmp_path, "report", "run", str(template), "--no-progress", "--pdf", "--out", str(out)
    )
    assert run.returncode == 0, run.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed[PDF]["sha256"] == sha256_file(out / PDF)
    assert manifest["archival"]["file"] == PDF and manifest["archival"]["format"] == "PDF/A-3b"
    assert (out / PDF).stat().st_mode & 0o222 == 0  # read-only like the rest
    page = (out / "report.html").read_text()
    figures = page.count('class="cm-plot"')
    assert figures >= 2
    assert_pdf_a3b(out / PDF, manifest, figures)
    assert verify_package(out).ok and verify_package(out.with_name("pkg.zip")).ok
    # a PDF that embeds another manifest, its hash written into the manifest: caught
    other = dict(pre_pdf_manifest(manifest), results={**manifest["results"], "verdict": "FAIL"})
    forged = tmp_path / "forged.pdf"
    render_pdf(out / "report.html", forged, dumps(other), manifest["package_id"])
    (out / PDF).chmod(0o644)
    (out / PDF).write_bytes(forged.read_bytes())
    listed[PDF].update(sha256=sha256_file(out / PDF), size=(out / PDF).stat().st_size)
    (out / "manifest.json").chmod(0o644)
    (out / "manifest.json").write_bytes(dumps(manifest))
    problems = verify_package(out).problems
    assert "archival PDF: the manifest it embeds is not this package's manifest before the PDF" in (
        problems
    )


@pytest.mark.req("REQ-PKG-011")
def test_package_pdf_adds_the_copy_to_an_unsigned_package(tmp_path: Path) -> None:
    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    out = tmp_path / "pkg"
    first = _cli(tmp_path, "report", "run", str(template), "--no-progress", "--out", str(out))
    assert first.returncode == 0, first.stderr
    before = (out / "manifest.json").read_bytes()
    made = _cli(tmp_path, "package", "pdf", str(out))
    assert made.returncode == 0, made.stderr
    assert "archival PDF:" in made.stdout and "PDF/A-3b" in made.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert read_pdf(out / PDF)[0] == before  # it embeds the manifest as it was
    assert_pdf_a3b(out / PDF, manifest, 0)
    assert verify_package(out).ok and verify_package(out.with_name("pkg.zip")).ok
    assert {p.name for p in out.iterdir() if p.stat().st_mode & 0o222} == set()
    from cmlops.store import open_store

    with open_store(home=tmp_path / ".cmlops") as store:
        record = store.records(action="package.archived")[0].payload_dict()
    assert record["manifest_sha256"] == sha256_file(out / "manifest.json")
    assert record["pdf_sha256"] == sha256_file(out / PDF)
    again = _cli(tmp_path, "package", "pdf", str(out))
    assert again.returncode == 2 and "already has its archival PDF" in again.stderr
    # tampered afterwards: the PDF is checked like any listed file
    (out / PDF).chmod(0o644)
    with open(out / PDF, "ab") as handle:
        handle.write(b"%")
    assert "modified: report.pdf" in verify_package(out).lines()


@pytest.mark.req("REQ-PKG-011")
def test_package_pdf_refuses_a_signed_package(tmp_path: Path) -> None:
    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    out = tmp_path / "pkg"
    first = _cli(tmp_path, "report", "run", str(template), "--no-progress", "--out", str(out))
    assert first.returncode == 0, first.stderr
    out.chmod(0o755)
    (out / "signatures.json").write_text('{"signatures": []}')
    refused = _cli(tmp_path, "package", "pdf", str(out))
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "is signed" in errors[0] and "before signing" in errors[0]
    assert not (out / PDF).exists()


@pytest.mark.req("REQ-PKG-011")
def test_a_checkpoint_made_after_the_pdf_vouches_for_the_new_manifest(
    tmp_path: Path, store
) -> None:
    from cmlops.reports.pdf_copy import add_pdf
    from cmlops.reports.runner import run_report
    from cmlops.trust.admin import generate_keys
    from cmlops.trust.checkpoint import create_checkpoint
    from cmlops.trust.keys import read_key_file, unlock

    generate_keys(
        "tester", "long passphrase", name="Tess Ter", path=tmp_path / "key.json", store=store
    )
    key = unlock(read_key_file(tmp_path / "key.json"), "long passphrase")
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {}, out=tmp_path / "pkg", store=store, progress=False)
    created = create_checkpoint(store, key, signer="tester")
    add_pdf(run.package, store=store)
    archived = create_checkpoint(store, key, signer="tester")
    result = verify_package(run.package, checkpoint=archived)
    assert result.ok, result.problems  # the chain recorded the rewrite: package.archived
    # a checkpoint from before the PDF knows only the created manifest, and says so
    earlier = verify_package(run.package, checkpoint=created)
    assert any("not the one created" in p for p in earlier.problems)
