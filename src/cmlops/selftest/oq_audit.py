"""OQ: the audit chain detects each class of tampering, on a throwaway store.

A store of known records is written in a temporary folder, then copied once per
tamper class and attacked the way someone with write access to the database
file would: the append-only triggers dropped, then a record edited, deleted,
inserted, reordered, or the tail cut off, or the chain re-hashed after an edit.
Each copy must fail ``verify`` at the expected record (a cut tail and a
re-hashed chain only against the anchor kept before the attack). The intact
store must verify, and re-verify with the ``rfc8785`` package alone. The user's
own store is never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.selftest.checks import Check

RECORDS = 20


def _store(folder: Path) -> Any:
    from cmlops.store import open_store

    home = folder / ".cmlops"
    return open_store(f"sqlite:///{home / 'store.sqlite'}", home=home)


def _fill(folder: Path) -> None:
    from cmlops.store import AuditEvent

    store = _store(folder)
    try:
        store.append_many(
            [
                AuditEvent("dataset.used", "entity", f"e{i}", {"i": i, "note": "é\n"}, "oq")
                for i in range(RECORDS)
            ]
        )
    finally:
        store.close()


#: SQL, optionally with its parameters
Statement = str | tuple[str, tuple[Any, ...]]


def _sql(folder: Path, statements: list[Statement]) -> None:
    """Run ``statements`` on the store's database with its append-only guards dropped."""
    connection = sqlite3.connect(folder / ".cmlops" / "store.sqlite")
    try:
        triggers = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
        ).fetchall()
        for (name,) in triggers:
            connection.execute(f'DROP TRIGGER "{name}"')
        for statement in statements:
            if isinstance(statement, str):
                connection.execute(statement)
            else:
                connection.execute(*statement)
        connection.commit()
    finally:
        connection.close()


def _attack(pristine: Path, work: Path, statements: list[Statement]) -> Path:
    """A copy of the pristine store attacked with ``statements``."""
    shutil.copytree(pristine, work)
    _sql(work, statements)
    return work


def _rehash_from(store: Any, seq: int) -> list[Statement]:
    """UPDATE statements that re-chain every record from ``seq`` on (a forger's cover-up)."""
    from cmlops.store.chain import canonical_record, record_hash

    records = store.records()
    prev = records[seq - 2].hash
    statements = []
    for r in records[seq - 1 :]:
        digest = record_hash(
            prev,
            canonical_record(
                r.seq,
                r.ts,
                r.actor,
                r.action,
                r.object_type,
                r.object_id,
                r.payload,
                r.reason,
                prev,
                r.context,
            ),
        )
        statements.append(
            ("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, r.seq))
        )
        prev = digest
    return statements


#: tamper class -> (SQL, first record verify must name, words its reason must hold)
CLASSES: dict[str, tuple[list[Statement], int, str]] = {
    "an edited payload": (
        ["UPDATE audit_log SET payload = replace(payload, '\"i\"', '\"j\"') WHERE seq = 9"],
        9,
        "hash mismatch",
    ),
    "an edited actor": (
        ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 5"],
        5,
        "hash mismatch",
    ),
    "an edited timestamp": (
        ["UPDATE audit_log SET ts = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 3"],
        3,
        "hash mismatch",
    ),
    "a deleted record": (["DELETE FROM audit_log WHERE seq = 7"], 8, "missing record"),
    "reordered records": (
        [
            "UPDATE audit_log SET seq = 1000 WHERE seq = 6",
            "UPDATE audit_log SET seq = 6 WHERE seq = 7",
            "UPDATE audit_log SET seq = 7 WHERE seq = 1000",
        ],
        6,
        "",
    ),
}


def _verify_copy(copy: Path, anchor: str | None = None) -> Any:
    store = _store(copy)
    try:
        return store.verify(anchor=anchor) if anchor else store.verify()
    finally:
        store.close()


def _class_check(n: int, name: str, result: Any, seq: int, words: str) -> Check:
    broken = getattr(result, "broken", None)
    seen = (
        "verify passed"
        if result.ok
        else f"verify failed at record {broken.seq}: {broken.reason}"
        if broken
        else "verify failed"
    )
    passed = (not result.ok) and broken is not None and broken.seq == seq
    passed = passed and (words in broken.reason if words else True)
    return Check(
        f"OQ-AUD-{n:02d}",
        "OQ",
        f"audit verify detects {name}",
        ("REQ-AUD-003",),
        passed,
        f"verify fails at record {seq}" + (f" ({words})" if words else ""),
        seen,
    )


#: a copy of record 5, altered, slotted in after it (the tail shifted up by one)
INSERTED: list[Statement] = [
    "UPDATE audit_log SET seq = seq + 1000 WHERE seq > 5",
    "UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000",
    "CREATE TEMP TABLE forged AS SELECT * FROM audit_log WHERE seq = 5",
    ("UPDATE forged SET seq = 6, actor = 'mallory', prev_hash = ?, hash = ?", ("1" * 64, "2" * 64)),
    "INSERT INTO audit_log SELECT * FROM forged",
]


def _independent(store: Any) -> tuple[bool, str]:
    """Re-verify the export with hashlib and the ``rfc8785`` package only."""
    import rfc8785

    buffer = io.StringIO()
    count = store.export_jsonl(buffer)
    prev = "0" * 64
    for line in buffer.getvalue().splitlines():
        record = json.loads(line)
        claimed = record.pop("hash")
        if record.get("prev_hash") != prev:
            return False, f"record {record.get('seq')} does not link to its predecessor"
        if hashlib.sha256(prev.encode() + rfc8785.dumps(record)).hexdigest() != claimed:
            return False, f"record {record.get('seq')} does not re-hash with rfc8785"
        prev = claimed
    return True, f"{count} exported records re-hash with rfc8785 alone"


def _intact(pristine: Path) -> list[Check]:
    store = _store(pristine)
    try:
        result = store.verify()
        independent, said = _independent(store)
    finally:
        store.close()
    return [
        Check(
            "OQ-AUD-01",
            "OQ",
            "an intact chain verifies, and re-verifies with rfc8785 alone",
            ("REQ-AUD-001", "REQ-AUD-006"),
            result.ok and result.records == RECORDS + 1 and independent,
            f"verify passes on {RECORDS + 1} records; the export re-hashes independently",
            f"verify {'passed' if result.ok else 'FAILED'} on {result.records} records; {said}",
        )
    ]


def _anchored(n: int, name: str, copy: Path, anchor: str) -> Check:
    alone, anchored = _verify_copy(copy), _verify_copy(copy, anchor)
    broken = getattr(anchored, "broken", None)
    caught = not anchored.ok and broken is not None and "anchor" in broken.reason
    return Check(
        f"OQ-AUD-{n:02d}",
        "OQ",
        f"{name} is caught against an anchor kept before it",
        ("REQ-AUD-004",),
        alone.ok and caught,
        "verify alone passes (a consistent prefix); verify against the kept anchor fails",
        f"alone: {'passed' if alone.ok else 'failed'}; against the anchor: "
        + (f"failed ({broken.reason})" if broken else "passed"),
    )


def _backwards(folder: Path) -> Check:
    moments = iter(
        [datetime(2999, 1, 2, tzinfo=timezone.utc), datetime(2999, 1, 1, tzinfo=timezone.utc)]
    )
    store = _store(folder)
    store.clock = lambda: next(moments)
    try:
        store.append("oq.clock", "t", "1")
        store.append("oq.clock", "t", "2")
        result = store.verify()
    finally:
        store.close()
    flagged = [w for w in result.warnings if "earlier" in w]
    return Check(
        "OQ-AUD-10",
        "OQ",
        "a timestamp earlier than its predecessor's is flagged, not hidden",
        ("REQ-AUD-005",),
        result.ok and len(flagged) == 1,
        "verify passes with one warning naming the earlier timestamp",
        "; ".join(result.warnings) or "no warning",
    )


def audit_checks(work: Path) -> list[Check]:
    """Every audit-chain check, in a fresh folder under ``work``."""
    pristine = work / "pristine"
    _fill(pristine)
    checks = _intact(pristine)
    for n, (name, (statements, seq, words)) in enumerate(CLASSES.items(), start=2):
        copy = _attack(pristine, work / f"class-{n}", statements)
        checks.append(_class_check(n, name, _verify_copy(copy), seq, words))
    copy = _attack(pristine, work / "inserted", INSERTED)
    checks.append(_class_check(7, "a forged record inserted", _verify_copy(copy), 6, ""))
    store = _store(pristine)
    try:
        head = store.head()
        anchor = f"{head.seq}:{head.hash}"
    finally:
        store.close()
    cut = _attack(pristine, work / "truncated", ["DELETE FROM audit_log WHERE seq > 15"])
    checks.append(_anchored(8, "a truncated tail", cut, anchor))
    forged = _attack(pristine, work / "rechained", CLASSES["an edited payload"][0])
    store = _store(forged)
    try:
        rechain = _rehash_from(store, 9)
    finally:
        store.close()
    _sql(forged, rechain)
    checks.append(_anchored(9, "an edit re-chained to verify", forged, anchor))
    checks.append(_backwards(work / "clock"))
    return checks
