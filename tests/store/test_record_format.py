"""Record format 2: each record's context, migration from format 1, what the database refuses."""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import os
import shutil
import socket

import pytest
import rfc8785
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cmlops._version import __version__
from cmlops.config import session_id
from cmlops.errors import InvalidInputError, SchemaVersionError, StoreReplacedError
from cmlops.store import open_store
from cmlops.store.chain import iter_jsonl_rows, seal, verify_rows
from tests.store.old_stores import build_old_store, fixture_rows
from tests.store.tampering import rechain, tamper


def one_line(error: BaseException) -> str:
    message = str(error)
    assert "\n" not in message
    return message


@pytest.mark.req("REQ-AUD-001")
def test_every_record_carries_who_where_and_with_what(make_store, store_url, monkeypatch) -> None:
    monkeypatch.setenv("CMLOPS_USER", "mallory")
    store = make_store()
    record = store.append("dataset.used", "entity", "e1", {"rows": 1})
    on_postgres = store_url.startswith("postgresql")
    assert record.actor == ("postgres" if on_postgres else "tester")
    assert record.context_dict() == {
        "actor_source": "postgresql" if on_postgres else "jupyterhub",
        "claimed_actor": "mallory",
        "cmlops_version": __version__,
        "host": socket.gethostname(),
        "hub_user": "tester",
        "os_user": getpass.getuser(),
        "pid": os.getpid(),
        "session": session_id(),
    }
    assert (store.actor_source, store.claimed_actor) == (
        record.context_dict()["actor_source"],
        "mallory",
    )
    assert store.records()[0].record_format == 2  # store.init too
    assert store.records()[0].payload_dict()["record_format"] == 2


def test_without_a_hub_the_actor_is_the_os_user(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_USER")
    with open_store(home=tmp_path / "s") as store:
        record = store.append("x.y", "t", "1")
    assert record.actor == getpass.getuser()
    assert record.context_dict()["actor_source"] == "os"


def test_a_store_written_by_cmlops_0_1_migrates_and_still_verifies(make_store, store_url) -> None:
    meta, rows = fixture_rows()
    build_old_store(store_url, 2, rows)
    with pytest.raises(SchemaVersionError):
        make_store()
    store = make_store(migrate=True)
    records = store.records()
    assert [r.hash for r in records[: len(rows)]] == [row["hash"] for row in rows]
    assert {r.record_format for r in records[: len(rows)]} == {1}
    (migrated,) = records[len(rows) :]
    assert migrated.action == "store.migrated" and migrated.record_format == 2
    assert migrated.object_id == meta["store_id"]
    store.append("after.migration", "t", "1", {"C": 1e16})
    assert store.verify().ok
    buffer = io.StringIO()
    store.export_jsonl(buffer)
    assert verify_rows(iter_jsonl_rows(buffer.getvalue().split("\n"))).ok
    # format-2 lines re-verify with rfc8785 alone; the old 1e16 line needs the documented rule
    for line in filter(None, buffer.getvalue().split("\n")):
        item = json.loads(line)
        claimed = item.pop("hash")
        if "context" in item:
            digest = hashlib.sha256(item["prev_hash"].encode() + rfc8785.dumps(item)).hexdigest()
            assert digest == claimed


@pytest.mark.req("REQ-AUD-003")
def test_a_record_without_context_after_format_2_is_refused_and_caught(make_store) -> None:
    store = make_store()
    head = store.append("x.y", "t", "1")
    downgraded = seal(head.seq + 1, head.ts, store.actor, "x.y", "t", "2", {}, "", head.hash)
    row = {k: v for k, v in vars(downgraded).items()}
    insert = text(
        "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, payload, reason,"
        " prev_hash, hash, context) VALUES (:seq, :ts, :actor, :action, :object_type,"
        " :object_id, :payload, :reason, :prev_hash, :hash, :context)"
    )
    with pytest.raises(DBAPIError, match="context"):
        with store._engine.connect() as connection, connection.begin():
            connection.execute(insert, row)
    tamper(store, insert.text, **row)  # with the triggers dropped, as an attacker would
    result = store.verify()
    assert not result.ok and result.broken.seq == head.seq + 1
    assert "no context" in result.broken.reason


@pytest.mark.req("REQ-AUD-002")
def test_the_database_refuses_a_record_that_does_not_extend_the_head(make_store) -> None:
    store = make_store()
    head = store.append("x.y", "t", "1")
    context = head.context
    for seq, prev in ((head.seq + 1, "f" * 64), (head.seq + 2, head.hash), (head.seq, head.hash)):
        forged = seal(seq, head.ts, store.actor, "x.y", "t", "f", {}, "", prev, context)
        with pytest.raises(DBAPIError):
            with store._engine.connect() as connection, connection.begin():
                connection.execute(
                    text(
                        "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id,"
                        " payload, reason, prev_hash, hash, context) VALUES (:seq, :ts, :actor,"
                        " :action, :object_type, :object_id, :payload, :reason, :prev_hash, :hash,"
                        " :context)"
                    ),
                    vars(forged),
                )
    assert store.verify().ok and store.head().seq == head.seq


@pytest.mark.req("REQ-AUD-008")
def test_reasons_are_mandatory_for_corrections_deviations_policy_and_signatures(
    make_store,
) -> None:
    store = make_store()
    for action in (
        "plan.deviation",
        "report.deviation_accepted",
        "policy.changed",
        "signature.refused",
        "package.signed",
        "audit.correction",
    ):
        with pytest.raises(InvalidInputError, match="needs a reason") as caught:
            store.append(action, "t", "1", {}, reason="  ")
        one_line(caught.value)
        assert store.append(action, "t", "1", {}, reason="because").reason == "because"
    assert store.append("dataset.used", "t", "1").reason == ""


@pytest.mark.req("REQ-AUD-003")
def test_incremental_verify_checks_only_new_records_and_full_verify_still_finds_old_edits(
    make_store,
) -> None:
    store = make_store()
    for i in range(10):
        store.append("x.y", "t", str(i), {"i": i})
    verified = store.verify().head
    for i in range(3):
        store.append("x.z", "t", str(i))
    since = store.verify(since=verified)
    assert since.ok and since.records == 3 and since.head == store.head()
    tamper(store, "UPDATE audit_log SET reason = 'edited' WHERE seq = 4")
    assert store.verify(since=verified).ok  # before the verified head: not re-read
    full = store.verify()
    assert not full.ok and full.broken.seq == 4
    tamper(store, f"UPDATE audit_log SET hash = '{'e' * 64}' WHERE seq = {verified.seq}")
    rewritten = store.verify(since=verified)
    assert not rewritten.ok and "rewritten" in rewritten.broken.reason


@pytest.mark.req("REQ-AUD-009")
def test_a_deleted_store_folder_is_reported_not_written_into_the_void(tmp_path) -> None:
    home = tmp_path / "project" / ".cmlops"
    store = open_store(home=home)
    store.append("x.y", "t", "1")
    shutil.rmtree(home)  # `git clean -fdx` in the middle of a session
    with pytest.raises(StoreReplacedError) as caught:
        store.append("x.y", "t", "2")
    assert "vanished" in one_line(caught.value) and store._opened_id in str(caught.value)
    with pytest.raises(StoreReplacedError):
        store.check_writable()
    other = open_store(home=home)  # someone starts a new store in the same place
    with pytest.raises(StoreReplacedError, match="replaced"):
        store.append("x.y", "t", "3")
    assert other.count_records() == 1  # only its own store.init
    other.close()
    store.close()


@pytest.mark.req("REQ-AUD-009")
def test_a_store_replaced_under_the_same_url_is_reported(make_store) -> None:
    store = make_store()
    tamper(store, "UPDATE cmlops_meta SET value = 'another-store' WHERE key = 'store_id'")
    with pytest.raises(StoreReplacedError, match="replaced by another store"):
        store.append("x.y", "t", "1")
    with pytest.raises(StoreReplacedError):
        store.check_writable()


@pytest.mark.req("REQ-AUD-009")
def test_a_store_rolled_back_or_rewritten_under_a_session_is_reported(make_store) -> None:
    """Restored from an older backup or truncated behind cmlops: the store id is the same."""
    store, other = make_store(), make_store()
    store.append("x.y", "t", "1")
    other.append("x.y", "t", "2")  # another writer in between is normal
    mine = store.append("x.y", "t", "3")
    other.append("x.y", "t", "4")
    assert store.append("x.y", "t", "5").seq == mine.seq + 2
    head = store.head()
    tamper(store, "DELETE FROM audit_log WHERE seq >= :seq", seq=head.seq)
    with pytest.raises(StoreReplacedError) as caught:
        store.append("x.y", "t", "6")
    message = one_line(caught.value)
    assert "rolled back" in message and f"this session wrote seq {head.seq}" in message
    with pytest.raises(StoreReplacedError, match="rolled back"):
        store.check_writable()  # so a strict cell refuses before it runs
    assert other.append("x.y", "t", "7").seq == head.seq  # a session that lost nothing goes on
    fresh = make_store()
    fresh_record = fresh.append("x.y", "t", "8")
    tamper(store, "UPDATE audit_log SET reason = 'edited' WHERE seq = :seq", seq=fresh_record.seq)
    rechain(store, fresh_record.seq)
    with pytest.raises(StoreReplacedError, match=f"record {fresh_record.seq} this session wrote"):
        fresh.append("x.y", "t", "9")
