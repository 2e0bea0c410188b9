"""Electronic signatures: two components, binding to the manifest, status life cycle."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cmlops.reports.errors import PackageExistsError, SigningError
from cmlops.reports.runner import run_report
from cmlops.reports.signing import sign_package
from cmlops.reports.status import package_state, supersede
from cmlops.reports.verify import verify_package
from cmlops.trust.keys import generate_keys
from tests.reports.conftest import make_template

pytestmark = pytest.mark.kernel
PASS = "correct horse battery"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two executed packages and one FAILED package, built once for the module."""
    import os

    from cmlops.store import open_store
    from tests.reports.conftest import ECHO_BODY, SRC

    base = tmp_path_factory.mktemp("built")
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(SRC)
    try:
        store = open_store(home=base / ".cmlops")
        echo = make_template(base / "echo.ipynb", ECHO_BODY)
        fails = make_template(base / "fail.ipynb", ["raise RuntimeError('x')"])
        out = {
            "a": run_report(echo, {}, out=base / "a", store=store, progress=False).package,
            "b": run_report(echo, {"n": 5}, out=base / "b", store=store, progress=False).package,
            "failed": run_report(fails, {}, out=base / "f", store=store, progress=False).package,
        }
        store.close()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    return out


@pytest.fixture
def pkg(built, tmp_path: Path):
    counter = iter(range(100))

    def copy(name: str) -> Path:
        target = tmp_path / f"pkg-{name}-{next(counter)}"
        shutil.copytree(built[name], target)
        return target

    return copy


@pytest.fixture
def key(tmp_path: Path, store) -> Path:
    info = generate_keys("tester", PASS, name="Tess Ter", path=tmp_path / "k.json", store=store)
    assert (info.path.stat().st_mode & 0o777) == 0o600
    return info.path


def sign(path: Path, key: Path, store, meaning: str = "authored", **kw) -> dict:
    return sign_package(
        path,
        meaning=meaning,
        name=kw.pop("name", "Tess Ter"),
        passphrase=kw.pop("passphrase", PASS),
        key_path=key,
        store=store,
        **kw,
    )


@pytest.mark.req("REQ-SIG-001")
def test_signature_verifies_and_is_audited(pkg, key, store) -> None:
    path = pkg("a")
    hostile = "<script>alert(1)</script> Tess"
    entry = sign(path, key, store, name=hostile)
    assert entry["user_id"] == "tester" and entry["meaning"] == "authored"
    result = verify_package(path)
    assert result.ok, result.lines()
    assert result.signatures[0]["valid"] and result.signatures[0]["name"] == hostile
    page = (path / "signatures.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert verify_package(path.with_name(path.name + ".zip")).ok  # zip re-written with signature
    records = store.records(action="package.signed")
    assert len(records) == 1 and records[0].payload_dict()["manifest_sha256"] == (
        result.manifest_sha256
    )
    assert "key.generated" in {r.action for r in store.records()}


@pytest.mark.req("REQ-SIG-002")
def test_any_changed_byte_after_signing_fails(pkg, key, store) -> None:
    path = pkg("a")
    sign(path, key, store)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parameters"]["n"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = verify_package(path)
    assert any("manifest changed after signing" in p for p in result.problems)
    path2 = pkg("a")
    sign(path2, key, store)
    sigs = json.loads((path2 / "signatures.json").read_text())
    sigs["signatures"][0]["meaning"] = "approved"
    (path2 / "signatures.json").write_text(json.dumps(sigs))
    result = verify_package(path2)
    assert any("signature does not match" in p for p in result.problems)


@pytest.mark.req("REQ-SIG-002")
def test_signature_moved_to_another_package_fails(pkg, key, store) -> None:
    a, b = pkg("a"), pkg("b")
    sign(a, key, store)
    for name in ("signatures.json", "signatures.html"):
        shutil.copyfile(a / name, b / name)
    result = verify_package(b)
    assert not result.ok
    assert any("another package" in p for p in result.problems)


@pytest.mark.req("REQ-SIG-003")
def test_wrong_passphrase_foreign_and_expired_keys(pkg, key, store, tmp_path: Path) -> None:
    path = pkg("a")
    with pytest.raises(SigningError, match="wrong passphrase"):
        sign(path, key, store, passphrase="not the passphrase")
    alice = generate_keys("alice", PASS, path=tmp_path / "alice.json").path
    with pytest.raises(SigningError, match="belongs to user 'alice'"):
        sign(path, alice, store)
    short = generate_keys("tester", PASS, path=tmp_path / "short.json", valid_days=1).path
    with pytest.raises(SigningError, match="expired"):
        sign(path, short, store, now=datetime.now(timezone.utc) + timedelta(days=2))
    assert not (path / "signatures.json").exists()
    with pytest.raises(SigningError, match="at least 8"):
        generate_keys("tester", "short", path=tmp_path / "x.json")


@pytest.mark.req("REQ-SIG-005")
def test_status_life_cycle_and_refusals(pkg, key, store) -> None:
    path, failed = pkg("a"), pkg("failed")
    with pytest.raises(SigningError, match="FAILED"):
        sign(failed, key, store, meaning="approved")
    with pytest.raises(SigningError, match="before a review"):
        sign(path, key, store, meaning="approved")
    assert package_state(path, store=store)["status"] == "executed"
    sign(path, key, store, meaning="reviewed")
    assert package_state(path, store=store)["status"] == "reviewed"
    sign(path, key, store, meaning="approved")
    assert package_state(path, store=store)["status"] == "approved"
    assert package_state(failed, store=store)["status"] == "FAILED"
    newer = pkg("b")
    supersede(path, newer, store=store, reason="re-run on corrected data")
    assert package_state(path, store=store)["status"] == "superseded"
    with pytest.raises(SigningError, match="superseded"):
        sign(path, key, store, meaning="reviewed")


@pytest.mark.req("REQ-SIG-005")
def test_tampered_package_cannot_be_signed(pkg, key, store) -> None:
    path = pkg("a")
    (path / "results.json").write_text("{}")
    with pytest.raises(SigningError, match="fails verification"):
        sign(path, key, store, meaning="reviewed")


@pytest.mark.req("REQ-PKG-005")
def test_signed_package_is_never_overwritten(pkg, key, store, tmp_path: Path) -> None:
    path = pkg("a")
    sign(path, key, store)
    echo = make_template(tmp_path / "e.ipynb", ["x = 1"])
    with pytest.raises(PackageExistsError, match="never overwritten"):
        run_report(echo, {}, out=path, force=True, store=store, progress=False)
    assert verify_package(path).ok
