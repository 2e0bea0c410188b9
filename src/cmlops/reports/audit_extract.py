"""The audit trail of one run, copied into its package with the proofs that it sits in the chain.

The extract holds *only this run's records*: its ``plan.*`` and ``report.*``
records, the lineage its runner recorded, and the lineage and alerts that its
own kernel recorded (cells tracked inside the template, recognised by the
notebook path the runner gives the kernel). Records other users wrote while
the run was going on — their cells, code, paths — stay out: they are not
evidence of this run and are not the package's to disclose.

Membership is proven without them: ``audit/proofs.json`` holds the tree size
and Merkle root of the chain at the end of the run and an RFC 6962 inclusion
proof per extracted record (plus the last record's hash, which the manifest
names as ``head_after``), and consistency proofs from every checkpoint the
chain recorded before the run to that root (docs/audit-chain.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cmlops.store.chain import GENESIS_HASH, canonical_record, record_hash, row_from_dict
from cmlops.store.merkle import consistency_bundle, inclusion_bundle
from cmlops.store.model import AuditRecord

EXTRACT = "audit/trail.jsonl"
VERIFY = "audit/verify.json"
PROOFS = "audit/proofs.json"
PROOFS_SCHEMA = "cmlops.package-proofs/1"
_NODES = ("lineage.entity", "lineage.agent", "lineage.environment")
_RELATIONS = ("lineage.used", "lineage.generated", "lineage.derived", "lineage.associated")


def _payload(record: AuditRecord) -> dict[str, Any]:
    return record.payload_dict()


def _run_own(record: AuditRecord, run_id: str) -> bool:
    if record.action.startswith(("report.", "package.")):
        return record.object_id == run_id
    if record.action in ("plan.recorded", "plan.deviation"):
        return _payload(record).get("run_id") == run_id
    return False


def _batch_of(activity: AuditRecord, window: dict[int, AuditRecord]) -> set[int]:
    """The records written in the same transaction as a ``lineage.activity`` record.

    ``Store.record_lineage`` writes environments, agents and entities first, then
    the activity, then its relations, in one transaction under the chain's lock:
    so the batch is the activity, the relations naming it, and the node records
    right before it that those relations (or its environment) reference.
    """
    aid = activity.object_id
    seqs = {activity.seq}
    referenced = {str(_payload(activity).get("environment_id", ""))}
    for record in window.values():
        if record.action in _RELATIONS and _payload(record).get("activity_id") == aid:
            seqs.add(record.seq)
            fact = _payload(record)
            referenced.update(str(fact.get(k, "")) for k in ("entity_id", "source_id", "agent_id"))
    seq = activity.seq - 1
    while seq in window:
        node = window[seq]
        if node.action not in _NODES or node.object_id not in referenced:
            break
        if node.actor != activity.actor:
            break
        seqs.add(seq)
        seq -= 1
    return seqs


def run_record_seqs(records: Iterable[AuditRecord], run_id: str, notebook: str) -> list[int]:
    """The seqs of this run's own records among ``records`` (see the module docstring)."""
    window = {r.seq: r for r in records}
    own = {seq for seq, r in window.items() if _run_own(r, run_id)}
    activities = {f"report:{run_id}"}
    for record in window.values():
        if record.action != "lineage.activity":
            continue
        if record.object_id in activities or _payload(record).get("notebook") == notebook:
            activities.add(record.object_id)
            own |= _batch_of(record, window)
    # alerts are recorded on the result entity (cmlops.capture.alerts): the run's own are
    # those on results its activities generated
    results = {
        str(_payload(r).get("entity_id"))
        for r in window.values()
        if r.action == "lineage.generated" and _payload(r).get("activity_id") in activities
    }
    for record in window.values():
        if record.action == "monitor.alert" and record.object_id in results:
            own.add(record.seq)
    return sorted(own)


def write_audit_extract(
    store: Any,
    folder: Path,
    head_before: dict[str, Any] | None,
    head_after: dict[str, Any] | None,
    *,
    run_id: str,
    notebook: str,
) -> dict[str, Any]:
    """Write the run's records, their proofs and the store's verify result; the manifest part."""
    first = (head_before or {}).get("seq", 0) + 1
    size = (head_after or {}).get("seq", 0)
    window = store.records(offset=first - 1, limit=size - first + 1) if size >= first else []
    window = [r for r in window if first <= r.seq <= size]
    seqs = run_record_seqs(window, run_id, notebook)
    records = [r for r in window if r.seq in set(seqs)]
    (folder / "audit").mkdir(exist_ok=True)
    with open(folder / EXTRACT, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
    proofs = _proofs(store, records, size, head_after)
    (folder / PROOFS).write_text(json.dumps(proofs, indent=1, sort_keys=True), "utf-8")
    result = store.verify()
    verify = {
        "store_verify_ok": result.ok,
        "store_verify_summary": result.summary(),
        "records": len(records),
        "tree_size": size,
        "root": proofs["inclusion"]["root"],
    }
    (folder / VERIFY).write_text(json.dumps(verify, indent=2, sort_keys=True), "utf-8")
    return {
        "head_before": head_before,
        "head_after": head_after,
        "extract": EXTRACT,
        "verify": VERIFY,
        "proofs": PROOFS,
        "records": len(records),
        "store_id": proofs["store_id"],
        "tree_size": size,
        "root": proofs["inclusion"]["root"],
    }


def _proofs(
    store: Any, records: list[AuditRecord], size: int, head_after: dict[str, Any] | None
) -> dict[str, Any]:
    """Inclusion proofs of the records (and of the head) at ``size``; checkpoint consistency."""
    tree = store.merkle_tree(size)
    hashes = {r.seq: r.hash for r in records}
    if head_after:
        hashes[head_after["seq"]] = head_after["hash"]
    checkpoints = []
    for record in store.records(action="audit.checkpoint"):
        payload = _payload(record)
        covered = payload.get("checkpoint", {}).get("tree_size")
        if record.seq <= size and isinstance(covered, int) and 0 < covered <= size:
            checkpoints.append(
                {
                    "seq": record.seq,
                    "checkpoint": payload,
                    "consistency": consistency_bundle(tree, covered, size),
                }
            )
    return {
        "schema": PROOFS_SCHEMA,
        "store_id": store.store_id,
        "inclusion": inclusion_bundle(tree, hashes, size),
        "checkpoints": checkpoints,
    }


# -- packages made before per-run extracts (a contiguous chain segment) ------------------------
def records_from_dicts(items: Iterable[dict[str, Any]]) -> list[tuple]:
    return [row_from_dict(d) for d in items]


def check_segment(
    rows: list[tuple], head_before: dict[str, Any] | None, head_after: dict[str, Any] | None
) -> dict[str, Any]:
    """Recompute a chain segment; ``ok`` when it links ``head_before`` to ``head_after``."""
    prev = (head_before or {}).get("hash", GENESIS_HASH)
    seq = (head_before or {}).get("seq", 0)
    for row in rows:
        rseq, ts, actor, action, otype, oid, payload, reason, rprev, rhash, context = row
        if rseq != seq + 1:
            return {"ok": False, "reason": f"expected seq {seq + 1}, found {rseq}"}
        if rprev != prev:
            return {"ok": False, "reason": f"seq {rseq}: prev_hash does not link to seq {seq}"}
        actual = record_hash(
            rprev,
            canonical_record(rseq, ts, actor, action, otype, oid, payload, reason, rprev, context),
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
