"""A package against its own audit trail: FAIL→PASS forgeries, other users' records, proofs,
and checkpoints kept by the verifier. Real kernels; SQLite and a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmlops.reports.manifest import dumps, sha256_file
from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from cmlops.store.chain import canonical_record, record_hash, row_from_dict
from cmlops.trust.admin import generate_keys
from cmlops.trust.checkpoint import create_checkpoint
from cmlops.trust.keys import read_key_file, unlock
from tests.reports.conftest import ECHO_BODY, make_template
from tests.store.old_stores import add_team_role

pytestmark = pytest.mark.kernel

FAILING_PLAN = {
    "plan_id": "strict-plan",
    "criteria": [{"id": "n-large", "metric": "n", "op": ">=", "threshold": 10}],
}
OTHER_USER = """
import os, sys, time
from cmlops.store import Activity, Entity, Used, LineageBatch, open_store
os.environ["JUPYTERHUB_USER"] = "bob"  # another person (the actor; not a claim)
store = open_store(sys.argv[1], home=sys.argv[2])
i = 0
while True:
    store.record_lineage(LineageBatch(
        entities=[Entity(f"bob-e{i}", "dataset", "bob.csv", str(i), "/home/bob/BOB-SECRET.csv")],
        activities=[Activity(f"bob-a{i}", "cell", code="secret = 'BOB-SECRET'",
                             notebook="/home/bob/private.ipynb")],
        used=[Used(f"bob-a{i}", f"bob-e{i}", "input")],
    ))
    i += 1
    time.sleep(0.02)
"""


def rewrite_manifest(pkg: Path, **results: object) -> None:
    """What a forger does after editing files: re-hash them in the manifest."""
    manifest = json.loads((pkg / "manifest.json").read_text())
    manifest["results"].update(results)
    for entry in manifest["files"]:
        entry["sha256"] = sha256_file(pkg / entry["path"])
        entry["size"] = (pkg / entry["path"]).stat().st_size
    (pkg / "manifest.json").write_bytes(dumps(manifest))


@pytest.mark.req("REQ-PKG-003")
def test_fail_to_pass_with_a_rehashed_manifest_fails_verification(
    tmp_path: Path, make_store
) -> None:
    store = make_store()  # SQLite and the real PostgreSQL server
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY, plan=FAILING_PLAN)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    pkg = run.package
    assert run.manifest["results"]["verdict"] == "FAIL" and verify_package(pkg).ok
    finished = store.records(action="report.finished")[0].payload_dict()
    assert finished["verdict"] == "FAIL" and finished["package_id"] == run.manifest["package_id"]
    assert finished["results_sha256"] == sha256_file(pkg / "results.json")
    assert finished["plan_sha256"] == run.manifest["plan"]["sha256"]
    results = json.loads((pkg / "results.json").read_text())
    results["verdict"] = "PASS"
    for criterion in results["criteria"]:
        criterion["outcome"], criterion["passed"] = "PASS", True
    (pkg / "results.json").write_text(json.dumps(results))
    rewrite_manifest(pkg, verdict="PASS", criteria=results["criteria"])
    result = verify_package(pkg)
    assert not result.ok and not result.modified
    text = "\n".join(result.problems)
    assert "verdict (PASS) is not what the chain recorded at the run" in text
    assert "FAIL" in text and "results.json digest" in text


@pytest.mark.req("REQ-PKG-003")
def test_a_rehashed_audit_record_is_not_proven_in_the_chain(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY, plan=FAILING_PLAN)
    pkg = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False).package
    trail = pkg / "audit" / "trail.jsonl"
    items = [json.loads(line) for line in trail.read_text().splitlines()]
    for item in items:
        if item["action"] == "report.finished":  # the forger edits the record and re-hashes it
            item["payload"]["verdict"] = "PASS"
            row = row_from_dict(item)  # the record's fields as hashed (format 2: with context)
            item["hash"] = record_hash(item["prev_hash"], canonical_record(*row[:9], row[10]))
    trail.write_text("".join(json.dumps(i) + "\n" for i in items))
    rewrite_manifest(pkg)
    result = verify_package(pkg)
    assert any("is not proven in the chain" in p for p in result.problems), result.problems


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@pytest.mark.req("REQ-PKG-003")
def test_other_users_cells_during_a_run_stay_out_of_its_extract(
    tmp_path: Path, backend: str, request, monkeypatch
) -> None:
    """Bob's cells run concurrently; the run's own kernel tracks one cell. The extract holds
    the run's records and its kernel's, none of Bob's — yet every record is proven."""
    from cmlops.store import open_store

    home = tmp_path / ".cmlops"
    url = (
        f"sqlite:///{home / 'store.sqlite'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    monkeypatch.setenv("CMLOPS_STORE_URL", url)  # the report kernel writes to the same store
    store = open_store(url, home=home)
    tracked = [
        "%load_ext cmlops",
        "%%cmlops_track\nimport pandas as pd\ntrial_frame = pd.DataFrame({'age': [61, 72]})",
        *ECHO_BODY,
    ]
    template = make_template(tmp_path / "t.ipynb", tracked)
    # Bob is another person: on PostgreSQL his own database role, on SQLite his hub user
    bob_url = url if backend == "sqlite" else add_team_role(store, "bob")
    bob = subprocess.Popen([sys.executable, "-c", OTHER_USER, bob_url, str(home)], env=os.environ)
    try:
        time.sleep(1.0)
        run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    finally:
        bob.kill()
        bob.wait()
    audit = run.manifest["audit"]
    window = store.records(offset=audit["head_before"]["seq"], limit=10_000)
    window = [r for r in window if r.seq <= audit["head_after"]["seq"]]
    assert any(r.actor == "bob" for r in window), "Bob wrote nothing during the run"
    text = (run.package / "audit" / "trail.jsonl").read_text()
    items = [json.loads(line) for line in text.splitlines()]
    assert "BOB-SECRET" not in text and "bob" not in {i["actor"] for i in items}
    actions = {i["action"] for i in items}
    assert {"plan.recorded", "report.started", "report.finished", "lineage.activity"} <= actions
    kernel_cells = [
        i for i in items if i["action"] == "lineage.activity" and i["payload"]["kind"] != "report"
    ]
    assert kernel_cells and "trial_frame" in kernel_cells[0]["payload"]["code"]
    assert kernel_cells[0]["payload"]["notebook"] == str(run.package / "notebook.ipynb")
    result = verify_package(run.package)
    assert result.ok, result.lines()
    store.close()


def _key(tmp_path: Path, store):
    generate_keys(
        "tester", "long passphrase", name="Tess Ter", path=tmp_path / "key.json", store=store
    )
    return unlock(read_key_file(tmp_path / "key.json"), "long passphrase")


@pytest.mark.req("REQ-PKG-003")
def test_a_checkpoint_kept_by_the_verifier_vouches_for_the_package(tmp_path: Path, store) -> None:
    key = _key(tmp_path, store)
    before = create_checkpoint(store, key, signer="tester")
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    after = create_checkpoint(store, key, signer="tester")
    assert verify_package(run.package, checkpoint=before).ok  # same chain up to `before`
    assert verify_package(run.package, checkpoint=after).ok  # lists this package's creation
    # a forger re-hashes the manifest after creation: the later checkpoint knows the original
    rewrite_manifest(run.package)
    manifest = json.loads((run.package / "manifest.json").read_text())
    manifest["os_user"] = "someone-else"
    (run.package / "manifest.json").write_bytes(dumps(manifest))
    assert verify_package(run.package).ok  # nothing inside the package shows it
    result = verify_package(run.package, checkpoint=after)
    assert any("not the one created" in p for p in result.problems), result.problems


@pytest.mark.req("REQ-PKG-003")
def test_a_package_from_a_rewritten_chain_fails_against_an_earlier_checkpoint(
    tmp_path: Path, store
) -> None:
    from cmlops.store import open_store
    from tests.store.tampering import rechain, tamper

    key = _key(tmp_path, store)
    kept = create_checkpoint(store, key, signer="tester")
    # the chain is edited before the checkpoint and re-hashed, its checkpoint record dropped
    tamper(store, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    cp_seq = store.records(action="audit.checkpoint")[0].seq
    tamper(store, "DELETE FROM audit_log WHERE seq = :s", s=cp_seq)
    rechain(store, 1)
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    # the forger runs in a new session: the one that wrote the checkpoint notices the rewrite
    forger = open_store(store.url, home=store.home)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=forger, progress=False)
    forger.close()
    assert verify_package(run.package).ok  # self-consistent
    result = verify_package(run.package, checkpoint=kept)
    assert any("no consistency proof" in p for p in result.problems), result.problems


def test_a_checkpoint_of_another_store_is_refused(tmp_path: Path, store) -> None:
    from cmlops.errors import InvalidInputError
    from cmlops.store import open_store

    other = open_store(home=tmp_path / "other")
    generate_keys(
        "tester", "long passphrase", name="Tess Ter", path=tmp_path / "k2.json", store=other
    )
    foreign = create_checkpoint(
        other, unlock(read_key_file(tmp_path / "k2.json"), "long passphrase"), signer="tester"
    )
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    with pytest.raises(InvalidInputError, match="checkpoint of the package's store"):
        verify_package(run.package, checkpoint=foreign)
    other.close()


HOSTILE_AUDIT_FILES = [
    ("audit/proofs.json", "not json"),
    ("audit/proofs.json", '{"schema": "cmlops.package-proofs/1", "inclusion": []}'),
    (
        "audit/proofs.json",
        '{"schema": "cmlops.package-proofs/1", "inclusion": {"tree_size": 3, '
        '"root": "zz", "proofs": [{"seq": "1", "hash": 5, "path": "x"}]}}',
    ),
    ("audit/trail.jsonl", '{"seq": 1}\n'),
    ("audit/trail.jsonl", "[1, 2]\n\u0000\n"),
    ("audit/trail.jsonl", '{"payload": NaN}\n'),
]


@pytest.mark.req("REQ-PKG-006")
def test_hostile_audit_files_are_findings_not_crashes(tmp_path: Path, store) -> None:
    import shutil

    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    for number, (path, content) in enumerate(HOSTILE_AUDIT_FILES):
        pkg = shutil.copytree(run.package, tmp_path / f"hostile-{number}")
        (pkg / path).write_text(content)
        rewrite_manifest(pkg)
        result = verify_package(pkg)
        assert not result.ok, (path, content)
        assert any(p.startswith("audit trail:") for p in result.problems), result.problems


def test_hostile_manifest_criteria_and_records_are_findings(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    pkg = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False).package
    rewrite_manifest(pkg, criteria="not a list")
    result = verify_package(pkg)
    assert not result.ok and any("criteria" in p for p in result.problems), result.problems


@pytest.mark.req("REQ-SIG-002")
def test_a_later_checkpoint_reveals_a_stripped_signature(tmp_path: Path, store) -> None:
    from cmlops.reports.signing import sign_package

    key = _key(tmp_path, store)
    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    sign_package(
        run.package,
        meaning="authored",
        name="Tess Ter",
        passphrase="long passphrase",
        key_path=tmp_path / "key.json",
        store=store,
    )
    kept = create_checkpoint(store, key, signer="tester")
    assert verify_package(run.package, checkpoint=kept).ok
    (run.package / "signatures.json").unlink()
    (run.package / "signatures.html").unlink()
    assert verify_package(run.package).ok  # nothing inside the package shows it
    result = verify_package(run.package, checkpoint=kept)
    assert any(
        p.startswith("stripped signature") and "'authored' by tester" in p for p in result.problems
    ), result.problems


def test_the_store_confirms_the_packages_root_and_sees_a_rewrite(tmp_path: Path, store) -> None:
    from cmlops.reports.audit_check import store_problems
    from tests.store.tampering import rechain, tamper

    template = make_template(tmp_path / "t.ipynb", ECHO_BODY)
    run = run_report(template, {"n": 3}, out=tmp_path / "pkg", store=store, progress=False)
    assert store_problems(store, run.manifest) == []
    tamper(store, "UPDATE audit_log SET reason = 'edited' WHERE seq = 2")
    rechain(store, 2)
    assert store.verify().ok
    (problem,) = store_problems(store, run.manifest)
    assert "not the chain the package was made on" in problem
    tamper(store, "DELETE FROM audit_log WHERE seq > 3")
    (problem,) = store_problems(store, run.manifest)
    assert "cannot show the package's chain" in problem
