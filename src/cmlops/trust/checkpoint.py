"""Signed checkpoints of the audit chain: a head worth keeping somewhere else.

A checkpoint is the signed statement "store S had these first N records, whose
Merkle root is R and whose last hash is H, at time T" — the *signed tree head*
of Certificate Transparency. Kept outside the store (a ticket, the QA
archive, an e-mail), it catches what no chain can catch by itself: a store
truncated or emptied, or re-chained after an edit, fails against any earlier
checkpoint, because the new tree does not extend the signed one.

The signed document (RFC 8785, context ``cmlops-checkpoint-v1``, see
:mod:`cmlops.trust.ed25519`) has exactly the fields of :data:`DOC_FIELDS`;
``seq`` equals ``tree_size`` (records 1..N). ``signed_packages`` is
``{"count", "digest"}`` over the package creation and signature records up to
N (the list itself travels in the file), so an offline verifier can check a
package's manifest digest as created, and see that a package was signed even
when its signature files were stripped.

A checkpoint is written twice: as an ``audit.checkpoint`` record (payload
``{"checkpoint", "public_key", "signature"}``) and as a file
(:data:`FILE_SCHEMA`) that also carries the signer's key records with their
inclusion proofs against the checkpoint's own root, so it can be checked
offline. docs/audit-chain.md is the normative description.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidInputError, SigningError
from cmlops.store.chain import canonical_payload, utc_timestamp
from cmlops.store.model import AuditRecord
from cmlops.trust.ed25519 import key_id_of, public_key_text, sign_document, verify_document
from cmlops.trust.ledger import key_problem as ledger_key_problem
from cmlops.trust.ledger import key_records

CONTEXT = "cmlops-checkpoint-v1"
FILE_SCHEMA = "cmlops.checkpoint/1"
RECORDED = "audit.checkpoint"
OBJECT_TYPE = "checkpoint"
#: records whose facts a checkpoint summarises for offline package verifiers
PACKAGE_ACTIONS = (
    "package.created",
    "package.archived",  # an archival PDF added: the manifest digest after it
    "package.signed",
    "package.sign_withdrawn",
)
DOC_FIELDS = (
    "store_id",
    "seq",
    "head_hash",
    "tree_size",
    "root",
    "time",
    "signer",
    "key_id",
    "signed_packages",
)


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint; ``document`` is what was signed."""

    document: dict[str, Any]
    public_key: str
    signature: str
    signed_packages: list[dict[str, Any]] = field(default_factory=list)
    key_records: list[dict[str, Any]] = field(default_factory=list)
    key_proofs: dict[str, Any] = field(default_factory=dict)

    @property
    def store_id(self) -> str:
        return self.document["store_id"]

    @property
    def tree_size(self) -> int:
        return self.document["tree_size"]

    @property
    def root(self) -> str:
        return self.document["root"]

    def label(self) -> str:
        d = self.document
        return f"checkpoint of {d['time']} by {d['signer']} (seq {d['tree_size']})"

    def record_payload(self) -> dict[str, Any]:
        return {
            "checkpoint": self.document,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    def to_file(self) -> dict[str, Any]:
        return {
            "schema": FILE_SCHEMA,
            **self.record_payload(),
            "signed_packages": self.signed_packages,
            "key_records": self.key_records,
            "key_proofs": self.key_proofs,
        }


def package_signature_entries(records: list[AuditRecord]) -> list[dict[str, Any]]:
    """The package facts a checkpoint summarises (creations, signatures), in seq order."""
    out = []
    for record in sorted(records, key=lambda r: r.seq):
        if record.action not in PACKAGE_ACTIONS:
            continue
        payload = record.payload_dict()
        out.append(
            {
                "seq": record.seq,
                "action": record.action,
                "package_id": record.object_id,
                "user_id": record.actor,
                "meaning": payload.get("meaning", ""),
                "manifest_sha256": payload.get("manifest_sha256", ""),
            }
        )
    return out


def packages_summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"count", "digest"}``: SHA-256 of the RFC 8785 JSON of ``{"entries": [...]}``."""
    text = canonical_payload({"entries": entries})
    return {"count": len(entries), "digest": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def create_checkpoint(store: Any, private_key: Any, *, signer: str) -> Checkpoint:
    """Sign the store's current tree head with ``signer``'s key and record it in the chain.

    Refused (:class:`SigningError`, nothing recorded) when the key is not the
    signer's registered, active key, or when ``signer`` is not who acts.
    """
    if signer != store.actor:
        raise SigningError(
            f"the key belongs to {signer!r} but you act as {store.actor!r}: sign with your own key"
        )
    public_key = public_key_text(private_key)
    key_id = key_id_of(public_key)
    tree = store.merkle_tree()
    size = tree.size
    (head,) = store.records(offset=size - 1, limit=1)
    time = utc_timestamp(store.clock())
    key_records = signer_key_records(store, key_id, size)
    problem = key_problem(
        key_records, signer, key_id, public_key, size + 1, time, store_id=store.store_id
    )
    if problem:
        raise SigningError(f"cannot sign a checkpoint: {problem}")
    entries = package_signature_entries(
        [r for r in store.records(action="package.*") if r.seq <= size]
    )
    document = {
        "store_id": store.store_id,
        "seq": size,
        "head_hash": head.hash,
        "tree_size": size,
        "root": tree.root(size).hex(),
        "time": time,
        "signer": signer,
        "key_id": key_id,
        "signed_packages": packages_summary(entries),
    }
    checkpoint = Checkpoint(
        document=document,
        public_key=public_key,
        signature=sign_document(private_key, CONTEXT, document),
        signed_packages=entries,
        key_records=[r.to_dict() for r in key_records],
        key_proofs=store.inclusion_proofs([r.seq for r in key_records], size),
    )
    store.append(
        RECORDED,
        OBJECT_TYPE,
        str(size),
        checkpoint.record_payload(),
        reason="signed checkpoint of the audit chain",
    )
    return checkpoint


# -- the signer's key: the one place that asks the key registry ------------------------------
def signer_key_records(store: Any, key_id: str, upto_seq: int) -> list[AuditRecord]:
    """The records that decide whether ``key_id`` was active (:mod:`cmlops.trust.ledger`)."""
    return key_records(store, key_id, upto_seq)


def key_problem(
    records: list[AuditRecord],
    signer: str,
    key_id: str,
    public_key: str,
    seq: int,
    ts: str,
    *,
    store_id: str,
) -> str:
    """'' when ``key_id`` was ``signer``'s registered, active key for a record at ``(seq, ts)``.

    ``records`` are the chain's records about the key (:func:`signer_key_records`);
    the key registry derived from them decides (:func:`cmlops.trust.ledger.key_problem`).
    """
    return ledger_key_problem(records, store_id, signer, key_id, public_key, seq, ts)


# -- reading and checking ----------------------------------------------------------------------
def read_checkpoint_file(path: str | Path) -> Checkpoint:
    """Load a checkpoint file; a one-line :class:`InvalidInputError` if it is not one."""
    target = Path(path)
    try:
        item = json.loads(target.read_text("utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"no checkpoint file at {target}") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise InvalidInputError(
            f"{target} is not a readable checkpoint file (the JSON `cmlops audit checkpoint` "
            "writes)"
        ) from None
    if not isinstance(item, dict) or item.get("schema") != FILE_SCHEMA:
        raise InvalidInputError(f"{target} is not a cmlops checkpoint file ({FILE_SCHEMA})")
    return parse_checkpoint(item, str(target))


def parse_checkpoint(item: dict[str, Any], where: str) -> Checkpoint:
    """A :class:`Checkpoint` from a file or record payload; one-line error when malformed."""
    doc = item.get("checkpoint")
    problem = _document_problem(doc)
    if not problem and not all(isinstance(item.get(k), str) for k in ("public_key", "signature")):
        problem = "public_key or signature is missing"
    packages = item.get("signed_packages", [])
    if not problem and not (
        isinstance(packages, list) and all(isinstance(p, dict) for p in packages)
    ):
        problem = "signed_packages is not a list of objects"
    if problem:
        raise InvalidInputError(f"{where} is a damaged checkpoint ({problem})")
    return Checkpoint(
        document=doc,
        public_key=item["public_key"],
        signature=item["signature"],
        signed_packages=packages,
        key_records=item.get("key_records") or [],
        key_proofs=item.get("key_proofs") or {},
    )


def _document_problem(doc: Any) -> str:
    if not isinstance(doc, dict) or set(doc) != set(DOC_FIELDS):
        return f"the signed document must have exactly {', '.join(DOC_FIELDS)}"
    for name in ("seq", "tree_size"):
        if isinstance(doc[name], bool) or not isinstance(doc[name], int) or doc[name] < 1:
            return f"{name} is not a positive integer"
    if doc["seq"] != doc["tree_size"]:
        return "seq differs from tree_size"
    if not all(
        isinstance(doc[k], str) for k in ("store_id", "head_hash", "root", "time", "signer")
    ):
        return "a text field is not text"
    summary = doc["signed_packages"]
    if not isinstance(summary, dict) or set(summary) != {"count", "digest"}:
        return "signed_packages is not {count, digest}"
    return ""


def signature_problem(checkpoint: Checkpoint) -> str:
    """'' when the checkpoint is signed by the key it names and carries its signed package list."""
    doc = checkpoint.document
    if key_id_of_text(checkpoint.public_key) != doc["key_id"]:
        return "its public key is not the key it names"
    if not verify_document(checkpoint.public_key, CONTEXT, doc, checkpoint.signature):
        return "its signature does not verify: the checkpoint was altered or not signed by its key"
    if packages_summary(checkpoint.signed_packages) != doc["signed_packages"]:
        return "its list of package signatures is not the signed one"
    return ""


def key_id_of_text(public_key: str) -> str:
    try:
        return key_id_of(public_key)
    except InvalidInputError:
        return ""
