"""The audit trail of one run, copied into its package and checkable offline.

The extract is the contiguous segment of the hash chain from the record after
the head seen before the run to the head after it. Because it is contiguous,
anyone can recompute each record's hash from its predecessor's
(``sha256(prev_hash || RFC 8785 record)``) and confirm that the segment links
the two heads named in the manifest — without the original store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cmlops.store.chain import GENESIS_HASH, canonical_payload, canonical_record, record_hash

EXTRACT = "audit/trail.jsonl"
VERIFY = "audit/verify.json"


def write_audit_extract(
    store: Any, folder: Path, head_before: dict[str, Any] | None, head_after: dict[str, Any] | None
) -> dict[str, Any]:
    """Write the run's chain segment and the store's verify result; return the manifest part."""
    first = (head_before or {}).get("seq", 0) + 1
    last = (head_after or {}).get("seq", 0)
    records = []
    if last >= first:
        window = store.records(offset=first - 1, limit=last - first + 1)
        records = [r for r in window if first <= r.seq <= last]
    (folder / "audit").mkdir(exist_ok=True)
    with open(folder / EXTRACT, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    result = store.verify()
    verify = {
        "store_verify_ok": result.ok,
        "store_verify_summary": result.summary(),
        "segment": check_segment(
            records_from_dicts(r.to_dict() for r in records), head_before, head_after
        ),
    }
    (folder / VERIFY).write_text(json.dumps(verify, indent=2, sort_keys=True), "utf-8")
    return {
        "head_before": head_before,
        "head_after": head_after,
        "extract": EXTRACT,
        "verify": VERIFY,
        "records": len(records),
    }


def records_from_dicts(items: Iterable[dict[str, Any]]) -> list[tuple]:
    return [
        (
            d["seq"],
            d["ts"],
            d["actor"],
            d["action"],
            d["object_type"],
            d["object_id"],
            canonical_payload(d["payload"]),
            d["reason"],
            d["prev_hash"],
            d["hash"],
        )
        for d in items
    ]


def check_segment(
    rows: list[tuple], head_before: dict[str, Any] | None, head_after: dict[str, Any] | None
) -> dict[str, Any]:
    """Recompute a chain segment; ``ok`` when it links ``head_before`` to ``head_after``."""
    prev = (head_before or {}).get("hash", GENESIS_HASH)
    seq = (head_before or {}).get("seq", 0)
    for row in rows:
        rseq, ts, actor, action, otype, oid, payload, reason, rprev, rhash = row
        if rseq != seq + 1:
            return {"ok": False, "reason": f"expected seq {seq + 1}, found {rseq}"}
        if rprev != prev:
            return {"ok": False, "reason": f"seq {rseq}: prev_hash does not link to seq {seq}"}
        actual = record_hash(
            rprev, canonical_record(rseq, ts, actor, action, otype, oid, payload, reason, rprev)
        )
        if actual != rhash:
            return {"ok": False, "reason": f"seq {rseq}: hash mismatch (record altered)"}
        prev, seq = rhash, rseq
    expected = head_after or {"seq": 0, "hash": GENESIS_HASH}
    if seq != expected["seq"] or prev != expected["hash"]:
        return {
            "ok": False,
            "reason": f"segment ends at seq {seq}, manifest head is seq {expected['seq']}",
        }
    return {"ok": True, "records": len(rows)}
