"""``cmlops audit verify``: the chain, its recorded checkpoints, a kept checkpoint, the projection.

What each check catches (and what is left without a checkpoint) is stated in
docs/audit-chain.md; the CLI prints :data:`UNANCHORED_NOTE` when no
checkpoint or anchor kept outside the store was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlops.errors import InvalidInputError, InvalidRecordError, ProofError
from cmlops.store.chain import record_from_dict
from cmlops.store.merkle import MerkleTree, verify_inclusion_bundle
from cmlops.store.model import VerifyResult
from cmlops.store.projection import projection_problems
from cmlops.trust.checkpoint import (
    RECORDED,
    Checkpoint,
    key_problem,
    package_signature_entries,
    packages_summary,
    parse_checkpoint,
    signature_problem,
    signer_key_records,
)

UNANCHORED_NOTE = (
    "note: verified without a checkpoint or anchor kept outside the store, so this cannot "
    "detect records deleted from the end of the chain, or a chain rewritten and re-hashed "
    "after its last recorded checkpoint; keep the file `cmlops audit checkpoint` writes "
    "and verify with --checkpoint FILE"
)


@dataclass
class TrailVerification:
    """The chain result plus every problem found beyond it; ``ok`` when there is none."""

    chain: VerifyResult
    problems: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    recorded_checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems

    def summary(self) -> str:
        if not self.ok:
            first = self.chain.summary() if not self.chain.ok else f"FAILED: {self.problems[0]}"
            more = len(self.problems) - (0 if not self.chain.ok else 1)
            return first + (f" (and {more} more problems)" if more > 0 else "")
        text = self.chain.summary()
        if self.recorded_checkpoints:
            text += f"; {self.recorded_checkpoints} recorded checkpoints match"
        if self.checkpoint is not None:
            text += f"; extends the {self.checkpoint.label()}"
        return text


def verify_trail(
    store: Any, *, anchor: str | None = None, checkpoint: Checkpoint | None = None
) -> TrailVerification:
    """Everything ``cmlops audit verify`` checks on a store (see the module docstring)."""
    if checkpoint is not None and checkpoint.store_id != store.store_id:
        raise InvalidInputError(
            f"the checkpoint is of store {checkpoint.store_id}, this store is {store.store_id}: "
            "give a checkpoint of this store (if it is this store, its identity was replaced)"
        )
    out = TrailVerification(chain=store.verify(anchor), checkpoint=checkpoint)
    tree: MerkleTree | None = None
    try:
        tree = store.merkle_tree()
    except ProofError as error:
        if out.chain.ok:
            out.problems.append(str(error))
    if checkpoint is not None:
        out.problems += checkpoint_store_problems(store, checkpoint, tree)
    if tree is not None:
        recorded, problems = recorded_checkpoint_problems(store, tree)
        out.recorded_checkpoints = recorded
        out.problems += problems
    out.problems += projection_problems(store)
    return out


def checkpoint_store_problems(
    store: Any, checkpoint: Checkpoint, tree: MerkleTree | None
) -> list[str]:
    """Why this store is not an extension of the chain ``checkpoint`` signed ([] if it is)."""
    label = checkpoint.label()
    problem = signature_problem(checkpoint)
    if problem:
        return [f"the {label} is not valid: {problem}"]
    if tree is None:
        return [
            f"the chain has gaps (records deleted or inserted), so it cannot extend the {label}"
        ]
    size = tree.size
    if size < checkpoint.tree_size:
        return [
            f"the store has {size} records but the {label} covers {checkpoint.tree_size}: "
            "records were deleted (the store was truncated or emptied)"
        ]
    if tree.root(checkpoint.tree_size).hex() != checkpoint.root:
        return [
            f"records 1..{checkpoint.tree_size} are not the ones the {label} signed: the chain "
            "was edited and re-hashed (re-chained) or replaced"
        ]
    doc = checkpoint.document
    key_records = signer_key_records(store, doc["key_id"], checkpoint.tree_size)
    problem = key_problem(
        key_records,
        doc["signer"],
        doc["key_id"],
        checkpoint.public_key,
        checkpoint.tree_size + 1,
        doc["time"],
        store_id=checkpoint.store_id,
    )
    if problem:
        return [f"the {label} is not signed by a registered key: {problem}"]
    recorded = [
        r
        for r in store.records(action=RECORDED, object_id=str(checkpoint.tree_size))
        if r.payload_dict().get("signature") == checkpoint.signature
    ]
    if not recorded:
        return [
            f"the {label} is not recorded in the chain after seq {checkpoint.tree_size}: "
            "records after it were deleted"
        ]
    return []


def recorded_checkpoint_problems(store: Any, tree: MerkleTree) -> tuple[int, list[str]]:
    """Check every ``audit.checkpoint`` record against the tree; (count, problems)."""
    problems = []
    records = store.records(action=RECORDED)
    package_facts = package_signature_entries(store.records(action="package.*")) if records else []
    for record in records:
        try:
            checkpoint = parse_checkpoint(record.payload_dict(), f"record seq {record.seq}")
        except InvalidInputError as error:
            problems.append(str(error))
            continue
        size = checkpoint.tree_size
        where = f"recorded checkpoint seq {record.seq}"
        problem = signature_problem(checkpoint)
        if not problem and checkpoint.store_id != store.store_id:
            problem = "it names another store"
        if not problem and not size < record.seq <= tree.size:
            problem = f"it covers seq {size}, not records before it"
        if not problem and tree.root(size).hex() != checkpoint.root:
            problem = f"records 1..{size} no longer have the root it signed (re-chained)"
        if not problem:
            entries = [e for e in package_facts if e["seq"] <= size]
            if packages_summary(entries) != checkpoint.document["signed_packages"]:
                problem = "the package signature records it summarised changed"
        if problem:
            problems.append(f"{where}: {problem}")
    return len(records), problems


def offline_checkpoint_problems(checkpoint: Checkpoint) -> list[str]:
    """Check a checkpoint file alone: signature, and its signer's key records proven in its root."""
    problem = signature_problem(checkpoint)
    if problem:
        return [f"the {checkpoint.label()} is not valid: {problem}"]
    try:
        records = [record_from_dict(item) for item in checkpoint.key_records]
        proven = verify_inclusion_bundle(checkpoint.key_proofs)
    except (InvalidRecordError, ProofError) as error:
        return [f"the {checkpoint.label()} carries damaged key evidence: {error}"]
    if (
        checkpoint.key_proofs.get("root") != checkpoint.root
        or checkpoint.key_proofs.get("tree_size") != checkpoint.tree_size
    ):
        return [f"the {checkpoint.label()} proves its key against another tree"]
    if any(proven.get(r.seq) != r.hash for r in records):
        return [f"the {checkpoint.label()} carries a key record its proofs do not cover"]
    doc = checkpoint.document
    problem = key_problem(
        records,
        doc["signer"],
        doc["key_id"],
        checkpoint.public_key,
        checkpoint.tree_size + 1,
        doc["time"],
        store_id=checkpoint.store_id,
    )
    return (
        [f"the {checkpoint.label()} is not signed by a registered key: {problem}"]
        if problem
        else []
    )
