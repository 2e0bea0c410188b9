"""Append, verify and tamper detection on SQLite and a real PostgreSQL server."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import rfc8785
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cmlops.errors import ImmutableRecordError, InvalidInputError
from cmlops.store import AuditEvent, open_store
from cmlops.store.chain import GENESIS_HASH
from tests.store.old_stores import add_team_role
from tests.store.tampering import tamper


def fill(store, count: int = 20):
    return store.append_many(
        [
            AuditEvent("dataset.used", "entity", f"e{i}", {"i": i, "note": "é\n"}, "why")
            for i in range(count)
        ]
    )


@pytest.mark.req("REQ-AUD-001")
def test_new_store_starts_with_its_init_record_and_verifies(make_store) -> None:
    store = make_store()
    (first,) = store.records()
    assert (first.seq, first.action, first.prev_hash) == (1, "store.init", GENESIS_HASH)
    assert first.object_id == store.store_id
    result = store.verify()
    assert result.ok and result.records == 1 and not result.warnings


@pytest.mark.req("REQ-AUD-001")
def test_appends_chain_and_keep_fields(make_store, store_url) -> None:
    """A name given in code is a claim beside the authenticated actor (it once replaced it)."""
    store = make_store()
    one = store.append(
        "model.fitted", "entity", "m1", {"auc": 0.81}, reason="initial fit", claimed_actor="alice"
    )
    two = store.append("model.fitted", "entity", "m2", {})
    assert (one.seq, two.seq) == (2, 3)
    assert two.prev_hash == one.hash
    expected = "postgres" if store_url.startswith("postgresql") else "tester"
    assert one.actor == two.actor == store.actor == expected
    assert one.context_dict()["claimed_actor"] == "alice"
    assert two.context_dict()["claimed_actor"] == ""
    assert one.ts.endswith("+00:00") and one.ts <= two.ts
    assert one.payload_dict() == {"auc": 0.81}
    assert store.verify().ok


@pytest.mark.parametrize(
    ("statement", "seq", "fragment"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5", 5, "hash mismatch"),
        (
            "UPDATE audit_log SET payload = replace(payload, '\"i\"', '\"j\"') WHERE seq = 9",
            9,
            "hash mismatch",
        ),
        (
            "UPDATE audit_log SET ts = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 3",
            3,
            "hash mismatch",
        ),
        ("DELETE FROM audit_log WHERE seq = 7", 8, "missing record"),
    ],
    ids=["edited-actor", "edited-payload", "edited-ts", "deleted"],
)
@pytest.mark.req("REQ-AUD-003")
def test_verify_names_the_first_broken_record(make_store, statement, seq, fragment) -> None:
    store = make_store()
    fill(store)
    tamper(store, statement)
    result = store.verify()
    assert not result.ok
    assert result.broken.seq == seq
    assert fragment in result.broken.reason


@pytest.mark.req("REQ-AUD-003")
def test_verify_detects_an_inserted_record(make_store) -> None:
    store = make_store()
    records = fill(store)
    forged = records[4]
    # shift the tail up by one and slot a forged record in (what an attacker must do)
    tamper(
        store,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq > :s",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000",
        s=forged.seq,
    )
    tamper(
        store,
        "INSERT INTO audit_log (seq, ts, actor, action, object_type, object_id, payload, reason,"
        " prev_hash, hash, context) VALUES (:seq, :ts, 'mallory', 'x', 't', 'i', '{}', '',"
        " :prev, :hash, '{}')",
        seq=forged.seq + 1,
        ts=forged.ts,
        prev="1" * 64,
        hash="2" * 64,
    )
    result = store.verify()
    assert not result.ok and result.broken.seq == forged.seq + 1
    assert "prev_hash" in result.broken.reason


@pytest.mark.req("REQ-AUD-003")
def test_verify_detects_reordered_records(make_store) -> None:
    store = make_store()
    fill(store)
    tamper(
        store,
        "UPDATE audit_log SET seq = 1000 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = 7",
        "UPDATE audit_log SET seq = 7 WHERE seq = 1000",
    )
    result = store.verify()
    assert not result.ok and result.broken.seq == 6


@pytest.mark.req("REQ-AUD-004")
def test_truncated_tail_is_caught_only_with_an_anchor(make_store) -> None:
    store = make_store()
    fill(store)
    anchor = store.head()
    tamper(store, "DELETE FROM audit_log WHERE seq > 15")
    assert store.verify().ok  # a clean prefix looks valid on its own
    result = store.verify(anchor=f"{anchor.seq}:{anchor.hash}")
    assert not result.ok
    assert "anchor" in result.broken.reason and "head is seq 15" in result.broken.reason
    fresh = store.head()
    assert store.verify(anchor=fresh.hash).ok


@pytest.mark.req("REQ-AUD-005")
def test_timestamps_going_backwards_are_flagged_not_hidden(make_store) -> None:
    from datetime import datetime, timezone

    moments = iter(
        [datetime(2999, 1, 2, tzinfo=timezone.utc), datetime(2999, 1, 1, tzinfo=timezone.utc)]
    )
    store = make_store()
    store.clock = lambda: next(moments)
    store.append("a.b", "t", "1")
    store.append("a.b", "t", "2")
    result = store.verify()
    assert result.ok and len(result.warnings) == 1 and "earlier" in result.warnings[0]


@pytest.mark.req("REQ-AUD-002")
def test_records_cannot_be_updated_or_deleted(make_store) -> None:
    store = make_store()
    fill(store, 3)
    with pytest.raises(ImmutableRecordError):
        store.update(2, {"x": 1})
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store._engine.connect() as connection, connection.begin():
                connection.execute(text(statement))
    assert store.verify().ok and store.count_records() == 4


@pytest.mark.req("REQ-AUD-002")
def test_a_correction_is_a_new_record_pointing_at_the_old_one(make_store) -> None:
    store = make_store()
    wrong = store.append("dataset.labelled", "entity", "e1", {"label": "trian"})
    fixed = store.correct(wrong.seq, {"label": "train"}, reason="typo in label")
    assert fixed.seq == wrong.seq + 1
    payload = fixed.payload_dict()
    assert payload["corrects"] == {"seq": wrong.seq, "hash": wrong.hash, "action": wrong.action}
    # hashes of the old and new values, as anyone can recompute them from the two records
    old = rfc8785.dumps({"value": {"label": "trian"}})
    new = rfc8785.dumps({"value": {"label": "train"}})
    assert payload["old_value_sha256"] == hashlib.sha256(old).hexdigest()
    assert payload["new_value_sha256"] == hashlib.sha256(new).hexdigest()
    assert store.records(object_id="e1")[0].payload_dict() == {"label": "trian"}
    one_field = store.correct(wrong.seq, "train", reason="typo", field="label")
    digest = hashlib.sha256(rfc8785.dumps({"value": "trian"})).hexdigest()
    assert one_field.payload_dict()["old_value_sha256"] == digest
    with pytest.raises(InvalidInputError, match="reason"):
        store.correct(wrong.seq, {}, reason=" ")
    with pytest.raises(InvalidInputError, match="no audit record"):
        store.correct(999, {}, reason="x")
    with pytest.raises(InvalidInputError, match="no payload member"):
        store.correct(wrong.seq, "x", reason="x", field="nope")


def test_filters_and_paging(make_store, store_url, monkeypatch) -> None:
    store = make_store()
    fill(store, 10)
    if store_url.startswith("postgresql"):
        qa = open_store(add_team_role(store, "qa"), home=store.home)
    else:
        monkeypatch.setenv("JUPYTERHUB_USER", "qa")
        qa = make_store()
    qa.append("report.signed", "package", "p1")
    qa.close()
    assert [r.object_id for r in store.records(actor="qa")] == ["p1"]
    grants = 1 if store_url.startswith("postgresql") else 0  # the store.role_granted record
    assert len(store.records(action="dataset.*")) == 10
    assert store.count_records(action="dataset.*") == 10
    head = 12 + grants
    assert [r.seq for r in store.records(limit=3, newest_first=True)] == [head, head - 1, head - 2]
    assert [r.seq for r in store.records(limit=2, offset=2)] == [3, 4]
    assert [r.seq for r in store.records(after_seq=head - 2)] == [head - 1, head]
    assert store.count_records(after_seq=3) == head - 3
    assert store.records(after_seq=head) == []
    assert store.records(object_type="entity", object_id="e3")[0].payload_dict()["i"] == 3
    assert store.count_records(since="2000-01-01", until="2999-01-01") == head
    assert store.count_records(since="2999-01-01") == 0


@pytest.mark.req("REQ-AUD-006")
def test_export_verifies_with_an_independent_rfc8785_verifier(make_store) -> None:
    """A third party with only the documented format and the rfc8785 package re-verifies."""
    store = make_store()
    fill(store, 5)
    buffer = io.StringIO()
    assert store.export_jsonl(buffer) == 6
    prev = "0" * 64
    for line in buffer.getvalue().splitlines():
        record = json.loads(line)
        claimed = record.pop("hash")
        assert record["prev_hash"] == prev
        digest = hashlib.sha256(prev.encode() + rfc8785.dumps(record)).hexdigest()
        assert digest == claimed
        prev = claimed
    assert prev == store.head().hash
