"""A package against its own audit trail: records proven in the chain, facts that match.

``package verify`` calls :func:`check_audit`. It checks, offline:

1. every record of ``audit/trail.jsonl`` recomputes to its hash and is proven
   by ``audit/proofs.json`` to be in the chain's Merkle tree of the size and
   root the manifest names — and the proofs cover exactly those records (plus
   the manifest's ``head_after``);
2. the run's own records say what the package says: one ``report.started``,
   one ``report.finished`` and one ``plan.recorded`` for this package id, whose
   template, plan and results digests, status, verdict, criteria and output
   file digests are those of the package's files and manifest. Editing
   ``results.json`` from FAIL to PASS and re-hashing the manifest therefore
   fails: the chain recorded FAIL and the results' digest at run time.

What this cannot show alone is that the proofs' root is the real chain's: a
forger who rewrites the extract can recompute a root. That is what the store
(:func:`store_problems`: the store's tree of the same size has the same root)
and a signed checkpoint kept elsewhere (``--checkpoint FILE``,
:func:`checkpoint_problems`) add.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError, InvalidRecordError, ProofError
from cmlops.reports.audit_extract import (
    EXTRACT,
    PROOFS,
    PROOFS_SCHEMA,
    check_segment,
    records_from_dicts,
)
from cmlops.reports.manifest import sha256_file
from cmlops.store.chain import record_from_dict
from cmlops.store.merkle import verify_consistency_bundle, verify_inclusion_bundle
from cmlops.store.model import AuditRecord

_OUTPUTS = ("notebook.ipynb", "report.html", "results.json")


def read_extract(root: Path, manifest: dict[str, Any]) -> list[AuditRecord]:
    """The extract's records, each hash recomputed; :class:`ProofError` when damaged."""
    path = root / manifest.get("audit", {}).get("extract", EXTRACT)
    records = []
    try:
        # split on "\n" only: splitlines() would cut a record holding U+2028 in two
        for number, line in enumerate(path.read_text("utf-8").split("\n"), 1):
            if line.strip():
                try:
                    records.append(record_from_dict(json.loads(line)))
                except (ValueError, InvalidRecordError) as error:
                    raise ProofError(f"audit extract line {number}: {error}") from None
    except (OSError, UnicodeDecodeError):
        raise ProofError(f"audit extract {EXTRACT} is unreadable") from None
    return records


def read_proofs(root: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    path = root / manifest.get("audit", {}).get("proofs", PROOFS)
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        raise ProofError(f"{PROOFS} is missing or unreadable") from None
    if not isinstance(doc, dict) or doc.get("schema") != PROOFS_SCHEMA:
        raise ProofError(f"{PROOFS} is not a {PROOFS_SCHEMA} document")
    return doc


def check_audit(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Problems of the package's audit trail and of its facts (see the module docstring)."""
    audit = manifest.get("audit", {})
    if not (root / audit.get("extract", EXTRACT)).is_file():
        return []  # reported as a removed file
    if "proofs" not in audit:
        return _legacy_segment(root, manifest)
    try:
        records = read_extract(root, manifest)
        proofs = read_proofs(root, manifest)
        proven = verify_inclusion_bundle(proofs.get("inclusion"))
    except ProofError as error:
        return [f"audit trail: {error}"]
    problems = _proof_scope_problems(records, proofs, proven, audit)
    return problems + run_fact_problems(root, manifest, records)


def _proof_scope_problems(
    records: list[AuditRecord], proofs: dict[str, Any], proven: dict[int, str], audit: dict
) -> list[str]:
    bundle = proofs["inclusion"]
    problems = []
    if (bundle["tree_size"], bundle["root"]) != (audit.get("tree_size"), audit.get("root")):
        problems.append("audit trail: the proofs are for another tree than the manifest names")
    if proofs.get("store_id") != audit.get("store_id"):
        problems.append("audit trail: the proofs are of another store than the manifest names")
    head = audit.get("head_after") or {}
    if head and proven.get(head.get("seq")) != head.get("hash"):
        problems.append("audit trail: the manifest's head_after is not proven in the chain")
    for record in records:
        if proven.get(record.seq) != record.hash:
            problems.append(f"audit trail: record seq {record.seq} is not proven in the chain")
    extra = set(proven) - {r.seq for r in records} - {head.get("seq")}
    if extra:
        problems.append(f"audit trail: proofs of records the extract lacks ({sorted(extra)[:5]})")
    return problems


def _one(records: list[AuditRecord], action: str, package_id: str) -> tuple[Any, str]:
    if action == "plan.recorded":
        found = [r for r in records if r.action == action and _p(r).get("run_id") == package_id]
    else:
        found = [r for r in records if r.action == action and r.object_id == package_id]
    if len(found) != 1:
        return None, f"the audit trail has {len(found)} {action} records for this package, not 1"
    return found[0], ""


def _p(record: AuditRecord) -> dict[str, Any]:
    """The payload with tagged values decoded: the package's JSON files hold them plain."""
    return record.payload_values()


def run_fact_problems(
    root: Path, manifest: dict[str, Any], records: list[AuditRecord]
) -> list[str]:
    """Where the package differs from what the chain recorded at the time of the run."""
    pid = manifest.get("package_id")
    found = {
        a: _one(records, a, pid) for a in ("report.started", "report.finished", "plan.recorded")
    }
    missing = [why for _record, why in found.values() if why]
    if missing:
        return missing
    started, finished, plan = (_p(found[a][0]) for a in found)
    at = {a: found[a][0].seq for a in found}
    claims = [
        (
            "template digest",
            started.get("template_sha256"),
            manifest["template"].get("sha256"),
            at["report.started"],
        ),
        (
            "plan digest",
            started.get("plan_sha256"),
            manifest["plan"].get("sha256"),
            at["report.started"],
        ),
        ("plan digest", plan.get("sha256"), manifest["plan"].get("sha256"), at["plan.recorded"]),
        ("parameters", started.get("parameters"), manifest.get("parameters"), at["report.started"]),
        ("inputs", started.get("inputs"), manifest.get("inputs"), at["report.started"]),
        ("status", finished.get("status"), manifest.get("status"), at["report.finished"]),
        (
            "verdict",
            finished.get("verdict"),
            manifest["results"].get("verdict"),
            at["report.finished"],
        ),
        ("run by", found["report.started"][0].actor, manifest.get("user"), at["report.started"]),
        (
            "criteria outcomes",
            _outcomes(finished.get("criteria")),
            _outcomes(manifest["results"].get("criteria")),
            at["report.finished"],
        ),
    ]
    if "package_id" in finished:
        claims.append(("package id", finished["package_id"], pid, at["report.finished"]))
    claims += _output_claims(root, finished, at["report.finished"])
    return [
        f"the package's {what} ({_short(mine)}) is not what the chain recorded at the run "
        f"(seq {seq}: {_short(recorded)}): the package was edited after the run"
        for what, recorded, mine, seq in claims
        if recorded != mine
    ]


def _output_claims(root: Path, finished: dict[str, Any], seq: int) -> list[tuple]:
    """(what, recorded digest, the package file's digest, seq) of each output file."""
    outputs = finished.get("outputs")
    outputs = dict(outputs) if isinstance(outputs, dict) else {}
    if "results_sha256" in finished:
        outputs["results.json"] = finished["results_sha256"]
    claims = []
    for name in _OUTPUTS:
        path = root / name
        actual = sha256_file(path) if path.is_file() else None
        if name in outputs or actual is not None:
            claims.append((f"{name} digest", outputs.get(name), actual, seq))
    return claims


def _outcomes(criteria: Any) -> list[tuple[Any, Any]] | str:
    """``(id, outcome)`` of each criterion; the raw value when it is not a list of objects."""
    if not isinstance(criteria, list) or not all(isinstance(c, dict) for c in criteria):
        return _short(criteria)
    return [(c.get("id"), c.get("outcome")) for c in criteria]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _legacy_segment(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Packages made before per-run extracts carry a contiguous chain segment instead."""
    audit = manifest["audit"]
    try:
        text = (root / audit.get("extract", EXTRACT)).read_text("utf-8")
        items = [json.loads(line) for line in text.split("\n") if line]
        rows = records_from_dicts(items)
    except (ValueError, KeyError, TypeError) as exc:
        return [f"audit extract unreadable: {exc}"]
    seg = check_segment(rows, audit.get("head_before"), audit.get("head_after"))
    problems = [] if seg["ok"] else [f"audit extract broken: {seg['reason']}"]
    pid = manifest.get("package_id")
    if not any(i.get("action") == "report.started" and i.get("object_id") == pid for i in items):
        problems.append("audit extract has no report.started record for this package")
    return problems


# -- the store, when the verifier has it ---------------------------------------------------------
def store_problems(store: Any, manifest: dict[str, Any]) -> list[str]:
    """Why the package's chain is not ``store``'s chain ([] when the roots agree).

    The store's Merkle tree of the package's tree size must have the package's
    root: then every record the package proves is the store's record, and the
    store was not rewritten or truncated below the package since the run.
    """
    audit = manifest.get("audit", {})
    size, root = audit.get("tree_size"), audit.get("root")
    if not isinstance(size, int) or not isinstance(root, str):
        return ["audit trail: the manifest names no Merkle root to compare with the store"]
    if audit.get("store_id") != store.store_id:
        return [f"the package is of store {audit.get('store_id')}, not of this store"]
    try:
        tree = store.merkle_tree(size)
    except (InvalidInputError, ProofError) as error:
        return [f"the store cannot show the package's chain: {error}"]
    if tree.root(size).hex() != root:
        return [
            f"the store's first {size} records are not the chain the package was made on: "
            "the store or the package's audit trail was rewritten"
        ]
    return []


# -- a signed checkpoint kept by the verifier ----------------------------------------------------
def checkpoint_problems(
    root: Path, manifest: dict[str, Any], manifest_sha256: str, checkpoint: Any
) -> tuple[list[str], list[str]]:
    """Check the package against a checkpoint the verifier kept: (problems, notes).

    * a checkpoint taken at or before the run: the package's root must extend it
      (a consistency proof the package carries) — same chain, not rewritten up to it;
    * a checkpoint taken after the package was created: it lists the package's
      creation and signatures (manifest digests): the manifest must be the one
      created, and every signature it lists must still be in the package.
    """
    from cmlops.trust.trail import offline_checkpoint_problems

    audit = manifest.get("audit", {})
    if checkpoint.store_id != audit.get("store_id"):
        raise InvalidInputError(
            f"the checkpoint is of store {checkpoint.store_id}, the package of store "
            f"{audit.get('store_id')}: give a checkpoint of the package's store"
        )
    problems = offline_checkpoint_problems(checkpoint)
    if problems:
        return problems, []
    if checkpoint.tree_size <= audit.get("tree_size", 0):
        return _prefix_problems(root, manifest, checkpoint), []
    return _listed_problems(root, manifest, manifest_sha256, checkpoint)


def _prefix_problems(root: Path, manifest: dict[str, Any], checkpoint: Any) -> list[str]:
    audit = manifest["audit"]
    try:
        carried = read_proofs(root, manifest).get("checkpoints") or []
    except ProofError as error:
        return [f"audit trail: {error}"]
    for item in carried:
        bundle = item.get("consistency") if isinstance(item, dict) else None
        if not isinstance(bundle, dict):
            continue
        if (bundle.get("size1"), bundle.get("root1")) != (checkpoint.tree_size, checkpoint.root):
            continue
        try:
            _s1, _r1, size2, root2 = verify_consistency_bundle(bundle)
        except ProofError as error:
            return [f"the package's chain does not extend the {checkpoint.label()}: {error}"]
        if (size2, root2) != (audit.get("tree_size"), audit.get("root")):
            return [f"the consistency proof from the {checkpoint.label()} ends at another tree"]
        return []
    return [
        f"the package carries no consistency proof from the {checkpoint.label()}: it was not "
        "recorded in this package's chain (another chain, or the chain was rewritten)"
    ]


def _listed_problems(
    root: Path, manifest: dict[str, Any], manifest_sha256: str, checkpoint: Any
) -> tuple[list[str], list[str]]:
    pid = manifest.get("package_id")
    listed = [e for e in checkpoint.signed_packages if e.get("package_id") == pid]
    # the latest manifest the chain vouches for: created, or rewritten to list an archival PDF
    created = [e for e in listed if e.get("action") in ("package.created", "package.archived")]
    problems: list[str] = []
    notes: list[str] = []
    if not created:
        notes.append(
            f"the {checkpoint.label()} does not list this package's creation: it cannot "
            "vouch for this package"
        )
    elif created[-1].get("manifest_sha256") != manifest_sha256:
        problems.append(
            f"the manifest is not the one created (the {checkpoint.label()} lists manifest "
            f"{created[-1].get('manifest_sha256')}): the package was altered after creation"
        )
    present = _present_signatures(root)
    for entry in listed:
        if entry.get("action") != "package.signed":
            continue
        withdrawn = any(
            w.get("action") == "package.sign_withdrawn"
            and w.get("user_id") == entry.get("user_id")
            and _seq(w) > _seq(entry)
            for w in listed
        )
        if not withdrawn and (str(entry.get("user_id")), str(entry.get("meaning"))) not in present:
            problems.append(
                f"stripped signature: the {checkpoint.label()} records '{entry.get('meaning')}' "
                f"by {entry.get('user_id')} (seq {entry.get('seq')}), which the package no "
                "longer carries"
            )
    return problems, notes


def _seq(entry: dict[str, Any]) -> int:
    seq = entry.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _present_signatures(root: Path) -> set[tuple[str, str]]:
    path = root / "signatures.json"
    try:
        doc = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        entries = doc.get("signatures", []) if isinstance(doc, dict) else []
    except (OSError, ValueError):
        entries = []
    return {(str(e.get("user_id")), str(e.get("meaning"))) for e in entries if isinstance(e, dict)}
