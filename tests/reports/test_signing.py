"""Electronic signatures through the Python API: binding to the manifest, escaping, life cycle.

The forgery and impersonation classes, person by person in real processes, are
in ``tests/trust/test_signature_forgery.py``; this module checks the API and the
package files in one process, each person with their own store handle.
"""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from cmlops.reports.errors import PackageExistsError, SigningError
from cmlops.reports.runner import run_report
from cmlops.reports.signing import sign_package
from cmlops.reports.status import package_state, supersede
from cmlops.reports.verify import verify_package
from cmlops.store import open_store
from cmlops.trust.admin import change_policy, generate_keys
from cmlops.trust.keys import read_key_file
from cmlops.trust.policy import normalise_policy
from tests.reports.conftest import make_template
from tests.trust.roles import acting_as

pytestmark = pytest.mark.kernel
PASS = "correct horse battery"
HOSTILE = "<script>alert(1)</script> Tess"
PEOPLE = {"admin": "Ada Admin", "rev": HOSTILE, "rev2": "Rex Two", "app": "Abe Approver"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Packages run by 'runner', keys for everyone, a policy; built once for the module."""
    import os

    from tests.reports.conftest import ECHO_BODY, SRC

    base = tmp_path_factory.mktemp("built")
    home = base / ".cmlops"
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(SRC)
    try:
        with acting_as(home, "runner") as store:
            echo = make_template(base / "echo.ipynb", ECHO_BODY)
            fails = make_template(base / "fail.ipynb", ["raise RuntimeError('x')"])
            out = {
                name: run_report(echo, params, out=base / name, store=store, progress=False).package
                for name, params in zip("abcdef", ({"n": n} for n in range(1, 7)), strict=True)
            }
            out["failed"] = run_report(
                fails, {}, out=base / "failed", store=store, progress=False
            ).package
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old
    for user, name in PEOPLE.items():
        with acting_as(home, user) as store:
            out[f"key:{user}"] = generate_keys(
                user, PASS, name=name, path=base / f"{user}.json", store=store
            ).path
    roles = {"admin": ["admin"], "reviewer": ["rev", "rev2"], "approver": ["app"]}
    with acting_as(home, "admin") as store:
        key = read_key_file(out["key:admin"])
        change_policy(store, None, key=key, passphrase=PASS, reason="")
        change_policy(store, normalise_policy({"roles": roles}), key=key, passphrase=PASS,
                      reason="QA team")  # fmt: skip
    out["home"] = home
    return out


def sign(built, path: Path, user: str, meaning: str, **kw) -> dict:
    with acting_as(built["home"], user) as store:
        return sign_package(
            path,
            meaning=meaning,
            passphrase=kw.pop("passphrase", PASS),
            key_path=built[f"key:{user}"],
            store=store,
            **kw,
        )


@pytest.fixture
def copy(built, tmp_path: Path):
    counter = iter(range(100))

    def make(name: str) -> Path:
        target = tmp_path / f"pkg-{name}-{next(counter)}"
        shutil.copytree(built[name], target)
        return target

    return make


@pytest.mark.req("REQ-SIG-001", "REQ-PKG-005")
def test_signature_verifies_is_audited_and_escaped(built, copy, tmp_path: Path) -> None:
    path = copy("a")
    entry = sign(built, path, "rev", "reviewed")
    assert entry["user_id"] == "rev" and entry["name"] == HOSTILE
    result = verify_package(path)
    assert result.ok, result.lines()
    assert result.signatures[0]["valid"] and result.signatures[0]["name"] == HOSTILE
    page = (path / "signatures.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "Test template" in page and "PASS" in page and "white-space:nowrap" in page
    assert verify_package(path.with_name(path.name + ".zip")).ok  # zip re-written with signature
    with open_store(home=built["home"]) as store:
        record = store.records(action="package.signed")[-1]
        assert record.actor == "rev" and record.ts == entry["signed_at"]
        assert record.payload_dict()["manifest_sha256"] == result.manifest_sha256
        assert verify_package(path, store=store).ok
    echo = make_template(tmp_path / "e.ipynb", ["x = 1"])
    with acting_as(built["home"], "runner") as store:
        with pytest.raises(PackageExistsError, match="never overwritten"):
            run_report(echo, {}, out=path, force=True, store=store, progress=False)
    assert verify_package(path).ok


@pytest.mark.req("REQ-SIG-002")
def test_any_changed_byte_after_signing_fails(built, copy) -> None:
    path = copy("b")
    sign(built, path, "rev", "reviewed")
    signed = (path / "signatures.json").read_text()
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["parameters"]["n"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    result = verify_package(path)
    assert any("manifest changed after signing" in p for p in result.problems)
    shutil.copyfile(built["b"] / "manifest.json", path / "manifest.json")
    doc = json.loads(signed)
    doc["signatures"][0]["meaning"] = "approved"
    (path / "signatures.json").write_text(json.dumps(doc))
    assert not verify_package(path).ok


@pytest.mark.req("REQ-SIG-002")
def test_signature_moved_to_another_package_fails(built, copy) -> None:
    c, d = copy("c"), copy("d")
    sign(built, c, "rev", "reviewed")
    for name in ("signatures.json", "signatures.html"):
        shutil.copyfile(c / name, d / name)
    result = verify_package(d)
    assert not result.ok
    assert any("another package" in p for p in result.problems)


@pytest.mark.req("REQ-SIG-002")
def test_two_signers_at_once_both_survive(built, copy) -> None:
    from contextlib import ExitStack

    path = copy("d")
    errors: list[BaseException] = []

    def review(user: str, store) -> None:
        try:
            sign_package(path, meaning="reviewed", passphrase=PASS,
                         key_path=built[f"key:{user}"], store=store)  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    with ExitStack() as stack:  # each person's store is opened (authenticated) before the race
        stores = {u: stack.enter_context(acting_as(built["home"], u)) for u in ("rev", "rev2")}
        threads = [threading.Thread(target=review, args=(u, s)) for u, s in stores.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    result = verify_package(path)
    assert result.ok and sorted(s["user_id"] for s in result.signatures) == ["rev", "rev2"]


@pytest.mark.req("REQ-SIG-005")
def test_status_life_cycle_and_refusals(built, copy) -> None:
    path, failed = copy("e"), copy("failed")
    sign(built, failed, "rev", "reviewed")
    with pytest.raises(SigningError, match="the run FAILED: it cannot be approved"):
        sign(built, failed, "app", "approved")
    with pytest.raises(SigningError, match="approval needs an earlier review"):
        sign(built, path, "app", "approved")
    with open_store(home=built["home"]) as store:
        assert package_state(path, store=store)["status"] == "executed"
        sign(built, path, "rev2", "reviewed")
        assert package_state(path, store=store)["status"] == "reviewed"
        sign(built, path, "app", "approved")
        assert package_state(path, store=store)["status"] == "approved"
        assert package_state(failed, store=store)["status"] == "FAILED"
    with acting_as(built["home"], "app") as store:
        supersede(path, copy("f"), store=store, reason="re-run on corrected data")
        assert package_state(path, store=store)["status"] == "superseded"
    with pytest.raises(SigningError, match="superseded"):
        sign(built, path, "rev", "reviewed")


@pytest.mark.req("REQ-SIG-005")
def test_tampered_package_cannot_be_signed(built, copy) -> None:
    path = copy("f")
    (path / "results.json").write_text("{}")
    with pytest.raises(SigningError, match="fails verification"):
        sign(built, path, "rev", "reviewed")
    assert not (path / "signatures.json").exists()


@pytest.mark.req("REQ-SIG-005")
def test_status_cross_checks_the_packages_chain_with_the_store(
    tmp_path: Path, store, monkeypatch
) -> None:
    """The package proves its records against a Merkle root; with the store at hand, status
    also requires that root to be the store's — a store rewritten below the package since the
    run (edited and re-chained, so ``audit verify`` alone says OK) makes the package INVALID."""
    from click.testing import CliRunner

    from cmlops.cli import cli
    from tests.reports.conftest import ECHO_BODY
    from tests.store.tampering import rechain, tamper

    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    package = run_report(template, {"n": 2}, out=tmp_path / "pkg", store=store, progress=False)
    assert package_state(package.package, store=store)["status"] == "executed"
    tamper(store, "UPDATE audit_log SET reason = 'rewritten' WHERE seq = 2")
    rechain(store, 2)
    assert store.verify().ok  # the rewrite is invisible to the chain alone
    assert verify_package(package.package).ok  # and to the package alone
    state = package_state(package.package, store=store)
    assert state["status"] == "INVALID"
    assert any("not the chain the package was made on" in p for p in state["problems"])
    monkeypatch.setenv("CMLOPS_HOME", str(tmp_path / ".cmlops"))
    shown = CliRunner().invoke(cli, ["package", "status", str(package.package)])
    assert shown.exit_code == 1, shown.output
    assert shown.output.startswith("INVALID: package ")
    assert "not the chain the package was made on" in shown.output
    checked = CliRunner().invoke(
        cli, ["package", "verify", str(package.package), "--against-store"]
    )
    assert checked.exit_code == 1 and "not the chain the package was made on" in checked.output


@pytest.mark.req("REQ-SIG-005")
def test_an_aborted_run_supersedes_nothing_and_is_never_approved(tmp_path: Path) -> None:
    """A run stopped by SIGTERM leaves an ABORTED package that verifies: it still may not
    supersede a package, and stays ABORTED whatever is signed."""
    import signal

    from cmlops.reports.errors import PackageError
    from cmlops.reports.status import package_status
    from tests.reports.conftest import ECHO_BODY
    from tests.reports.test_run_faults import _slow_template, _start_cli, _wait_for

    aborted = tmp_path / "aborted"
    proc = _start_cli(tmp_path, _slow_template(tmp_path), aborted)
    _wait_for(tmp_path / "marker.waiting", proc)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert verify_package(aborted).ok
    with open_store(home=tmp_path / ".cmlops") as store:
        echo = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
        old = run_report(echo, {"n": 1}, out=tmp_path / "old", store=store, progress=False)
        assert package_state(aborted, store=store)["status"] == "ABORTED"
        with pytest.raises(PackageError, match="the successor's run ABORTED"):
            supersede(old.package, aborted, store=store, justification="other template")
        assert package_state(old.package, store=store)["superseded_by"] is None
        refused = store.records(action="package.supersede_refused")
        assert len(refused) == 1 and "ABORTED" in refused[0].reason
    assert package_status("ABORTED", True, ["reviewed", "approved"]) == "ABORTED"
