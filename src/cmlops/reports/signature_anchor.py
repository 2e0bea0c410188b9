"""Anchoring a package's signature evidence in the chain: a checkpoint and inclusion proofs.

At each signing, right after its ``package.signed`` record, the signer's key
signs a checkpoint of the chain (:mod:`cmlops.trust.checkpoint`: store id,
tree size, RFC 6962 Merkle root, head hash, and the list of every package
signature record so far). The package carries that checkpoint and an
inclusion proof of every evidence record against its root
(:mod:`cmlops.store.merkle`). Offline, this shows that the evidence records
are records of *one* chain whose head the checkpoint's signer — a registered
key of that chain — attested, and the checkpoint's list reveals a signing
record of this package that was stripped from it.

What it cannot show by itself: that this chain is the organisation's store and
not a complete fabrication signed by a key registered in the fabrication. The
verifier excludes that with the store, or with a checkpoint it kept from the
store (:func:`kept_checkpoint_problems`: every signing it covers must be in its
signed list; see docs/signatures.md, the trust model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlops.errors import InvalidInputError, ProofError
from cmlops.store.merkle import verify_inclusion_bundle
from cmlops.store.model import AuditRecord
from cmlops.trust.checkpoint import create_checkpoint, parse_checkpoint, signature_problem
from cmlops.trust.ledger import TrustLedger

UNANCHORED = (
    "the signature evidence carries no checkpoint: that its records belong to the store's "
    "chain is checked only with the store (`cmlops package status`, "
    "`package verify --against-store`)"
)


def seal_evidence(store: Any, seqs: list[int], private_key: Any) -> dict[str, Any]:
    """Sign a checkpoint of the chain now (as the signer) and prove ``seqs`` in it."""
    checkpoint = create_checkpoint(store, private_key, signer=store.actor)
    return {
        "checkpoint": {
            **checkpoint.record_payload(),
            "signed_packages": checkpoint.signed_packages,
        },
        "proofs": store.inclusion_proofs(seqs, checkpoint.tree_size),
    }


@dataclass
class AnchorCheck:
    """What the anchor established: problems, notes, and the signings the checkpoint lists."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signed: list[dict[str, Any]] = field(default_factory=list)


def check_anchor(anchor: Any, records: dict[int, AuditRecord], ledger: TrustLedger) -> AnchorCheck:
    """Check the checkpoint and proofs a package carries against its evidence records."""
    out = AnchorCheck()
    if not anchor:
        out.notes.append(UNANCHORED)
        return out
    try:
        checkpoint = parse_checkpoint(anchor.get("checkpoint") or {}, "the signing checkpoint")
        proven = verify_inclusion_bundle(anchor.get("proofs"))
    except (InvalidInputError, ProofError, AttributeError) as error:
        out.problems.append(f"signature evidence: {error}")
        return out
    doc = checkpoint.document
    bundle = anchor["proofs"]
    problem = signature_problem(checkpoint)
    if not problem and doc["store_id"] != ledger.store_id:
        problem = "it is a checkpoint of another store"
    if not problem and (bundle.get("root"), bundle.get("tree_size")) != (
        doc["root"],
        doc["tree_size"],
    ):
        problem = "the inclusion proofs are against another tree"
    if not problem:
        problem = _signer_problem(checkpoint, ledger)
    if problem:
        out.problems.append(f"signature evidence: the signing checkpoint is not valid: {problem}")
        return out
    unproven = sorted(seq for seq, r in records.items() if proven.get(seq) != r.hash)
    if unproven:
        out.problems.append(
            f"signature evidence: record(s) seq {', '.join(map(str, unproven))} are not in the "
            "chain the signing checkpoint signed (fabricated or altered)"
        )
    out.signed = list(checkpoint.signed_packages)
    out.notes.append(
        f"signature evidence proven in the {checkpoint.label()} of store {doc['store_id']} "
        f"(root {doc['root']}); to exclude a fabricated chain, compare it with a checkpoint "
        "you keep, or verify against the store"
    )
    return out


def _signer_problem(checkpoint: Any, ledger: TrustLedger) -> str:
    doc = checkpoint.document
    key = ledger.registry.keys.get(doc["key_id"])
    if key is None or key.user_id != doc["signer"] or key.public_key != checkpoint.public_key:
        return f"key {doc['key_id']} is not registered for {doc['signer']!r} in the evidence"
    return key.problem_at(doc["tree_size"] + 1, doc["time"])


def kept_checkpoint_problems(
    checkpoint: Any, package_id: str, signatures: list[dict[str, Any]]
) -> tuple[list[str], list[str]]:
    """Each valid signature against a checkpoint the verifier kept: (problems, notes).

    A signing recorded at or before the kept checkpoint must be in its signed
    list (same seq, signer, meaning and manifest digest): a signature resting on
    a fabricated chain is not. A later signing is beyond what it can vouch for.
    """
    listed = {
        e.get("seq"): e
        for e in checkpoint.signed_packages
        if e.get("action") == "package.signed" and e.get("package_id") == package_id
    }
    problems: list[str] = []
    later = 0
    for sig in signatures:
        if not sig["valid"]:
            continue
        if sig["seq"] > checkpoint.tree_size:
            later += 1
            continue
        entry = listed.get(sig["seq"]) or {}
        facts = (entry.get("user_id"), entry.get("meaning"), entry.get("manifest_sha256"))
        if facts != (sig["user_id"], sig["meaning"], sig["manifest_sha256"]):
            problems.append(
                f"signature {sig['meaning']} by {sig['user_id']!r} (seq {sig['seq']}) is not in "
                f"the chain of the {checkpoint.label()} you kept: its evidence is not the store's"
            )
    notes = (
        [f"{later} signature(s) were made after the {checkpoint.label()}: keep a later one"]
        if later
        else []
    )
    return problems, notes
