"""Signed checkpoints and `cmlops audit verify`: real processes, SQLite and a real PostgreSQL.

Each forgery is done the way an attacker with database access would do it
(tests/store/tampering.py), then checked with the CLI as a user runs it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmlops.store import AuditEvent, LineageBatch
from cmlops.store.model import Activity, Entity, Used
from cmlops.trust.admin import generate_keys
from cmlops.trust.keys import generate_key_file
from tests.store.tampering import rechain, tamper

PASSPHRASE = "correct horse battery"


def cmlops(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from cmlops.cli import main; main()", "--store-url", url, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=180,
    )


@pytest.fixture
def setup(make_store, store_url: str, tmp_path: Path):
    """A store with some records and lineage, and a key registered for the acting user."""
    store = make_store()
    store.append_many([AuditEvent("t.event", "thing", f"x{i}", {"i": i}) for i in range(30)])
    store.record_lineage(
        LineageBatch(
            entities=[Entity("ds:1", "dataset", "trial.csv", "sha256:1", "/data/trial.csv")],
            activities=[Activity("cell:1", "cell", code="df = read()", notebook="a.ipynb")],
            used=[Used("cell:1", "ds:1", "input")],
        )
    )
    # the acting user: the hub user on SQLite, the database role on PostgreSQL
    generate_keys(store.actor, PASSPHRASE, name="Tess Ter", path=tmp_path / "key.json", store=store)
    (tmp_path / "pass.txt").write_text(PASSPHRASE)
    return store, store_url, tmp_path


def make_checkpoint(url: str, folder: Path, name: str = "cp.json") -> subprocess.CompletedProcess:
    return cmlops(
        url,
        "audit",
        "checkpoint",
        "--out",
        name,
        "--key",
        "key.json",
        "--passphrase-file",
        "pass.txt",
        cwd=folder,
    )


@pytest.mark.req("REQ-AUD-004")
def test_checkpoint_is_recorded_written_read_only_and_verifies(setup) -> None:
    store, url, folder = setup
    made = make_checkpoint(url, folder)
    assert made.returncode == 0, made.stderr
    path = folder / "cp.json"
    assert oct(path.stat().st_mode & 0o222) == "0o0"
    doc = json.loads(path.read_text())["checkpoint"]
    (recorded,) = store.records(action="audit.checkpoint")
    assert recorded.payload_dict()["checkpoint"] == doc
    assert recorded.seq == doc["tree_size"] + 1 and doc["store_id"] == store.store_id
    assert doc["root"] == store.merkle_tree().root(doc["tree_size"]).hex()
    result = cmlops(url, "audit", "verify", "--checkpoint", "cp.json", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "extends the checkpoint" in result.stdout
        and "1 recorded checkpoints match" in result.stdout
    )
    assert "note:" not in result.stderr
    again = make_checkpoint(url, folder)
    assert again.returncode == 2 and "never overwritten" in again.stderr


@pytest.mark.req("REQ-AUD-004")
def test_verify_without_a_checkpoint_says_what_it_cannot_detect(setup) -> None:
    _store, url, folder = setup
    result = cmlops(url, "audit", "verify", cwd=folder)
    assert result.returncode == 0
    assert "cannot detect records deleted from the end" in result.stderr


@pytest.mark.req("REQ-AUD-004")
def test_total_truncation_fails_against_the_checkpoint_and_on_its_own(setup) -> None:
    store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    tamper(store, "DELETE FROM audit_log")
    plain = cmlops(url, "audit", "verify", cwd=folder)
    assert plain.returncode == 1 and "OK: 0 records" not in plain.stdout
    assert "audit log is empty" in plain.stdout
    result = cmlops(url, "audit", "verify", "--checkpoint", "cp.json", cwd=folder)
    assert result.returncode == 1
    assert "has 0 records but the checkpoint" in result.stdout + result.stderr


@pytest.mark.req("REQ-AUD-004")
def test_a_truncated_tail_is_caught_only_with_the_checkpoint(setup) -> None:
    store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    size = json.loads((folder / "cp.json").read_text())["checkpoint"]["tree_size"]
    tamper(store, "DELETE FROM audit_log WHERE seq > :s", s=size)  # the checkpoint record too
    assert cmlops(url, "audit", "verify", cwd=folder).returncode == 0  # looks valid alone
    result = cmlops(url, "audit", "verify", "--checkpoint", "cp.json", cwd=folder)
    assert result.returncode == 1
    assert "not recorded in the chain after seq" in result.stdout + result.stderr


@pytest.mark.req("REQ-AUD-004")
def test_a_rechained_store_fails_against_an_earlier_checkpoint(setup) -> None:
    store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    store.append("t.later", "thing", "y", {})
    # edit an early record and re-hash everything after it: the chain is valid again...
    tamper(store, "UPDATE audit_log SET payload = :p WHERE seq = 5", p='{"i":1000}')
    rechain(store, 5)
    assert store.verify().ok
    # ...but the recorded checkpoint no longer matches its records
    plain = cmlops(url, "audit", "verify", cwd=folder)
    assert plain.returncode == 1 and "re-chained" in plain.stdout + plain.stderr
    # the forger also removes the checkpoint record and re-chains again: alone it looks fine
    cp_seq = store.records(action="audit.checkpoint")[0].seq
    tamper(
        store,
        "DELETE FROM audit_log WHERE seq = :s",
        "UPDATE audit_log SET seq = seq - 1 WHERE seq > :s",
        s=cp_seq,
    )
    rechain(store, cp_seq)
    assert cmlops(url, "audit", "verify", cwd=folder).returncode == 0
    result = cmlops(url, "audit", "verify", "--checkpoint", "cp.json", cwd=folder)
    assert result.returncode == 1
    assert "re-hashed (re-chained)" in result.stdout + result.stderr


def test_a_checkpoint_of_another_store_is_a_one_line_error(setup, tmp_path_factory) -> None:
    _store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    other = tmp_path_factory.mktemp("other")
    other_url = f"sqlite:///{other / 'store.sqlite'}"
    from cmlops.store import open_store

    open_store(other_url, home=other).close()
    result = cmlops(
        other_url, "audit", "verify", "--checkpoint", str(folder / "cp.json"), cwd=other
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "checkpoint of this store" in result.stderr


@pytest.mark.parametrize(
    ("content", "code", "fragment"),
    [
        ("not json", 2, "not a readable checkpoint file"),
        ('{"schema": "something/1"}', 2, "not a cmlops checkpoint file"),
        ('{"schema": "cmlops.checkpoint/1", "checkpoint": {}}', 2, "damaged checkpoint"),
    ],
)
def test_a_corrupt_checkpoint_file_is_a_one_line_error(setup, content, code, fragment) -> None:
    _store, url, folder = setup
    (folder / "bad.json").write_text(content)
    result = cmlops(url, "audit", "verify", "--checkpoint", "bad.json", cwd=folder)
    assert result.returncode == code and fragment in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.req("REQ-AUD-004")
def test_an_altered_checkpoint_fails_verification(setup) -> None:
    store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    item = json.loads((folder / "cp.json").read_text())
    item["checkpoint"]["tree_size"] = item["checkpoint"]["seq"] = 3  # claim a shorter chain
    item["checkpoint"]["root"] = store.merkle_tree().root(3).hex()
    (folder / "forged.json").write_text(json.dumps(item))
    result = cmlops(url, "audit", "verify", "--checkpoint", "forged.json", cwd=folder)
    assert result.returncode == 1 and "signature does not verify" in result.stdout + result.stderr


@pytest.mark.req("REQ-AUD-004")
def test_a_key_not_registered_in_the_chain_cannot_sign_a_checkpoint(setup) -> None:
    store, url, folder = setup
    generate_key_file(store.actor, PASSPHRASE, name="Tess Ter", path=folder / "throwaway.json")
    before = store.head().seq
    result = cmlops(
        url,
        "audit",
        "checkpoint",
        "--key",
        "throwaway.json",
        "--passphrase-file",
        "pass.txt",
        cwd=folder,
    )
    assert result.returncode == 2 and "not registered" in result.stderr
    assert store.head().seq == before and not list(folder.glob("checkpoint-*.json"))


@pytest.mark.req("REQ-AUD-010")
def test_an_edited_lineage_row_is_reported(setup) -> None:
    store, url, folder = setup
    tamper(store, "UPDATE entities SET location = '/elsewhere.csv'", tables=("entities",))
    result = cmlops(url, "audit", "verify", cwd=folder)
    assert result.returncode == 1
    assert "entities row ds:1 differs from its audit record" in result.stderr
    assert "in location" in result.stderr


@pytest.mark.req("REQ-AUD-010")
def test_inserted_and_deleted_lineage_rows_are_reported(setup) -> None:
    store, url, folder = setup
    tamper(
        store,
        "DELETE FROM used",
        "INSERT INTO agents VALUES ('person:mallory', 'person', 'M', '{}', 3)",
        tables=("used", "agents"),
    )
    out = cmlops(url, "audit", "verify", "--json", cwd=folder)
    assert out.returncode == 1
    problems = json.loads(out.stdout)["problems"]
    assert any("agents row person:mallory has no lineage record" in p for p in problems)
    assert any(p.startswith("used row cell:1|ds:1|input") and "deleted" in p for p in problems)


@pytest.mark.req("REQ-AUD-006")
def test_an_independent_verifier_checks_a_checkpoint_and_an_inclusion_proof(setup) -> None:
    """Only hashlib, json and cryptography: the format in docs/audit-chain.md is enough."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    store, url, folder = setup
    assert make_checkpoint(url, folder).returncode == 0
    item = json.loads((folder / "cp.json").read_text())
    doc = item["checkpoint"]
    # 1. the signature: context line + RFC 8785 JSON (this document is ASCII keys, no floats)
    signed = b"cmlops-checkpoint-v1\n" + json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")
    public = base64.b64decode(item["public_key"])
    assert hashlib.sha256(public).hexdigest()[:32] == doc["key_id"]
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(item["signature"]), signed)
    # 2. an inclusion proof of record 7 against the signed root (RFC 9162 §2.1.3.2)
    record = store.records(offset=6, limit=1)[0]
    bundle = store.inclusion_proofs([7], doc["tree_size"])
    assert bundle["root"] == doc["root"]
    (proof,) = bundle["proofs"]

    def h(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    fn, sn, r = 6, doc["tree_size"] - 1, h(b"\x00" + bytes.fromhex(record.hash))
    for p in map(bytes.fromhex, proof["path"]):
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0 and r.hex() == doc["root"]
