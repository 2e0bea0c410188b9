"""Reading and checking a package's signatures — against the chain, never against themselves.

``signatures.json`` (schema ``cmlops.signatures/2``) holds the signature
entries and the *evidence* an offline verifier needs: the audit records the
signatures rest on (the store's first record, the run's ``report.started``,
every ``package.signed`` record of the package, the signers' key registrations,
retirements and revocations, and every policy record), and the proof that they
belong to the chain (a checkpoint and inclusion proofs, when available).

A signature entry is accepted only when all of this holds (each failure is
named):

* its ``package.signed`` record is in the evidence, recomputes to its hash, was
  written by the signer (record actor = user id) and holds exactly the entry;
  the trusted signing time is that record's ``ts``;
* the key id was registered for that user id (never a key the entry carries),
  was active at the record — not expired, retired or revoked — and the printed
  name is the registered name;
* the Ed25519 signature verifies with the *registered* public key over the
  signed fields (context ``cmlops-signature-v2``): package id, manifest digest,
  user id, printed name, meaning, justification, key id;
* the signer held the role for the meaning in the policy in force at that point
  of the chain and the separation-of-duty rules hold
  (:func:`cmlops.trust.policy.signing_problem`, the rule that refused or allowed
  the signing).

With the store at hand (``store=``) the evidence is compared record by record
with the store's chain, the trust facts are derived from the store itself, and
a ``package.signed`` record of this package that the package does not carry is
reported as a stripped signature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmlops.errors import InvalidRecordError
from cmlops.reports.manifest import SIGNATURES, SIGNATURES_HTML
from cmlops.reports.signature_anchor import check_anchor, kept_checkpoint_problems
from cmlops.reports.signature_page import signature_page
from cmlops.store.chain import record_from_dict
from cmlops.store.model import AuditRecord
from cmlops.trust.ed25519 import verify_document
from cmlops.trust.ledger import STORE_INIT, TrustLedger, load_ledger
from cmlops.trust.policy import CHANGED, SigningFacts, signing_problem
from cmlops.trust.registry import KEY_ACTIONS

SIG_SCHEMA = "cmlops.signatures/2"
CONTEXT = "cmlops-signature-v2"
SIGNED = "package.signed"
WITHDRAWN = "package.sign_withdrawn"
RUN_STARTED = "report.started"
SIGNED_FIELDS = (
    "package_id",
    "manifest_sha256",
    "user_id",
    "name",
    "meaning",
    "justification",
    "key_id",
)


def signed_document(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields a package signature signs (see the module docstring)."""
    return {k: entry[k] for k in SIGNED_FIELDS}


def signed_payload(entry: dict[str, Any]) -> dict[str, Any]:
    """The payload of the ``package.signed`` record of ``entry``."""
    return {**signed_document(entry), "signature": entry["signature"], "context": CONTEXT}


def read_signatures_file(root: Path) -> dict[str, Any]:
    """The signatures document ({} when the package is unsigned); ValueError when damaged."""
    path = root / SIGNATURES
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text("utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("signatures"), list):
        raise ValueError("not a signatures file")
    if not isinstance(doc.get("evidence", {}), dict):
        raise ValueError("its evidence is not an object")
    return doc


@dataclass
class SignatureCheck:
    """Each signature with its verdict, the problems found, and notes on what was not checked."""

    signatures: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    author: str | None = None

    @property
    def valid(self) -> list[dict[str, Any]]:
        return [s for s in self.signatures if s["valid"]]


@dataclass
class _Context:
    """What every entry is judged against."""

    package_id: str
    manifest_sha256: str
    run_status: str
    verdict: str
    records: dict[int, AuditRecord]
    ledger: TrustLedger
    author: str | None
    listed: list[dict[str, Any]]  # package signings a checkpoint lists (offline)


def _evidence_records(doc: dict[str, Any], out: SignatureCheck) -> dict[int, AuditRecord]:
    records: dict[int, AuditRecord] = {}
    items = (doc.get("evidence") or {}).get("records", [])
    for item in items if isinstance(items, list) else []:
        try:
            record = record_from_dict(item)
        except InvalidRecordError as error:
            out.problems.append(f"signature evidence: {error}")
            continue
        if records.setdefault(record.seq, record) != record:
            out.problems.append(f"signature evidence: two different records with seq {record.seq}")
    return records


def _against_store(
    store: Any, records: dict[int, AuditRecord], package_id: str, out: SignatureCheck
) -> dict[int, AuditRecord]:
    """Compare the evidence with the store's chain; return the store's records to judge by."""
    own: dict[int, AuditRecord] = {}
    wanted = [
        *store.records(limit=1),
        *store.records(action=RUN_STARTED, object_type="report", object_id=package_id),
        *store.records(action=SIGNED, object_type="package", object_id=package_id),
        *store.records(action=WITHDRAWN, object_type="package", object_id=package_id),
    ]
    for record in wanted:
        own[record.seq] = record
    for seq, record in sorted(records.items()):
        theirs = store.records(offset=seq - 1, limit=1)
        if not theirs or theirs[0].seq != seq or theirs[0].hash != record.hash:
            out.problems.append(
                f"signature evidence: record seq {seq} ({record.action}) is not the store's "
                "record at that seq (fabricated or from another store)"
            )
    return own


def _store_id(records: dict[int, AuditRecord]) -> str:
    first = records.get(1)
    return first.object_id if first is not None and first.action == STORE_INIT else ""


def _author(records: dict[int, AuditRecord], package_id: str) -> str | None:
    started = [r for r in records.values() if r.action == RUN_STARTED and r.object_id == package_id]
    return started[0].actor if len(started) == 1 else None


def build_context(
    doc: dict[str, Any], facts: dict[str, str], store: Any, out: SignatureCheck
) -> _Context:
    """The records, ledger and run facts the entries are judged by (package or store)."""
    records = _evidence_records(doc, out)
    if store is not None:
        records = _against_store(store, records, facts["package_id"], out)
        ledger = load_ledger(store)
    else:
        store_id = _store_id(records)
        if not store_id:
            out.problems.append("signature evidence lacks the store's first record (store.init)")
        trust = [r for r in records.values() if r.action in (*KEY_ACTIONS, CHANGED)]
        ledger = TrustLedger.from_records(store_id, trust)
        anchor = check_anchor((doc.get("evidence") or {}).get("anchor"), records, ledger)
        out.problems.extend(anchor.problems)
        out.notes.extend(anchor.notes)
        listed = anchor.signed
    author = _author(records, facts["package_id"])
    out.author = author
    return _Context(
        facts["package_id"],
        facts["manifest_sha256"],
        facts["run_status"],
        facts["verdict"],
        records,
        ledger,
        author,
        listed if store is None else [],
    )


def _entry_problem(entry: Any, ctx: _Context, earlier: list[tuple[str, str]]) -> str:
    """'' when the entry is a valid signature in ``ctx``, else the named failure."""
    try:
        document = signed_document(entry)
        seq, digest = int(entry["record"]["seq"]), str(entry["record"]["hash"])
        signature = entry["signature"]
    except (KeyError, TypeError, ValueError):
        return "malformed signature entry"
    if not all(isinstance(value, str) for value in document.values()):
        return "malformed signature entry"
    if document["package_id"] != ctx.package_id:
        return "signature belongs to another package"
    if document["manifest_sha256"] != ctx.manifest_sha256:
        return "manifest changed after signing"
    record = ctx.records.get(seq)
    if record is None or record.hash != digest or record.action != SIGNED:
        return "no package.signed record in the chain for this signature (not recorded)"
    problem = _key_problem(document, signature, record, ctx)
    if problem:
        return problem
    if record.object_id != ctx.package_id or record.payload_dict() != signed_payload(entry):
        return "the signature differs from its package.signed record"
    if record.actor != document["user_id"]:
        return f"signed in the chain by {record.actor!r}, not by {document['user_id']!r}"
    if entry.get("signed_at") != record.ts:
        return f"signing time altered (the chain records {record.ts})"
    return signing_problem(
        ctx.ledger.policies.at(record.seq),
        SigningFacts(
            signer=document["user_id"],
            meaning=document["meaning"],
            run_author=ctx.author,
            run_status=ctx.run_status,
            verdict=ctx.verdict,
            justification=document["justification"],
            earlier=tuple(earlier),
        ),
    )


def _key_problem(
    document: dict[str, Any], signature: Any, record: AuditRecord, ctx: _Context
) -> str:
    key = ctx.ledger.registry.keys.get(document["key_id"])
    if key is None:
        return f"key {document['key_id']} was never registered (an unregistered key)"
    if key.user_id != document["user_id"]:
        return f"key {key.key_id} is registered for {key.user_id!r}, not {document['user_id']!r}"
    problem = key.problem_at(record.seq, record.ts)
    if problem:
        return f"{problem} (signed {record.ts})"
    if document["name"] != key.name:
        return f"printed name {document['name']!r} is not the registered name {key.name!r}"
    if not verify_document(key.public_key, CONTEXT, document, signature):
        return "signature does not verify with the registered key (signed fields altered)"
    return ""


def _label(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "?"
    return f"{entry.get('meaning', '?')} by {entry.get('name', '?')} ({entry.get('user_id')})"


def judge_entries(entries: list[Any], ctx: _Context, out: SignatureCheck) -> None:
    """Judge each entry in chain order; earlier valid entries inform the duty rules."""

    def order(entry: Any) -> int:
        try:
            return int(entry["record"]["seq"])
        except (KeyError, TypeError, ValueError):
            return 0

    earlier: list[tuple[str, str]] = []
    for number, entry in enumerate(sorted(entries, key=order), 1):
        why = _entry_problem(entry, ctx, earlier)
        if why:
            out.problems.append(f"broken signature {number}: {_label(entry)}: {why}")
        else:
            earlier.append((entry["user_id"], entry["meaning"]))
        shown = entry if isinstance(entry, dict) else {}
        out.signatures.append(
            {
                **{k: shown.get(k) for k in (*SIGNED_FIELDS, "signed_at")},
                "seq": order(entry),
                "valid": not why,
                "problem": why,
            }
        )


def signings(records: list[AuditRecord], package_id: str) -> tuple[list[dict[str, Any]], set]:
    """The package's signing records as ``{seq, user_id, meaning}``, and the withdrawn seqs."""
    ours = [r for r in records if r.object_id == package_id and r.object_type == "package"]
    withdrawn = {r.payload_dict().get("seq") for r in ours if r.action == WITHDRAWN}
    found = [
        {"seq": r.seq, "user_id": r.actor, "meaning": r.payload_dict().get("meaning")}
        for r in ours
        if r.action == SIGNED
    ]
    return found, withdrawn


def stripped_signatures(found: list[dict[str, Any]], withdrawn: set, carried: set) -> list[str]:
    """A line for each known signing of the package that it does not carry."""
    seen: set = set()
    out = []
    for item in sorted(found, key=lambda i: i["seq"] if isinstance(i.get("seq"), int) else -1):
        seq = item.get("seq")
        if seq in carried or seq in withdrawn or seq in seen:
            continue
        seen.add(seq)
        out.append(
            f"signature stripped: the chain records {item.get('meaning')} by "
            f"{item.get('user_id')!r} (seq {seq}), the package does not carry it"
        )
    return out


def _judge_document(
    root: Path,
    doc: dict[str, Any],
    manifest: dict[str, Any],
    facts: dict[str, str],
    sources: tuple[Any, Any],
    out: SignatureCheck,
) -> None:
    """Judge a ``cmlops.signatures/2`` document: entries, page, stripped and kept-checkpoint."""
    store, checkpoint = sources
    ctx = build_context(doc, facts, store, out)
    judge_entries(doc["signatures"], ctx, out)
    page = root / SIGNATURES_HTML
    if not page.is_file() or page.read_text("utf-8") != signature_page(manifest, doc["signatures"]):
        out.problems.append(f"modified: {SIGNATURES_HTML} does not match {SIGNATURES}")
    pid = facts["package_id"]
    found, withdrawn = signings(list(ctx.records.values()), pid)
    found += [e for e in ctx.listed if e.get("package_id") == pid and e.get("action") == SIGNED]
    out.problems.extend(stripped_signatures(found, withdrawn, {s["seq"] for s in out.signatures}))
    if checkpoint is not None:
        problems, notes = kept_checkpoint_problems(checkpoint, pid, out.signatures)
        out.problems.extend(problems)
        out.notes.extend(notes)


def _stripped_from_store(store: Any, package_id: str) -> list[str]:
    """The store's signings of a package that carries no signature file at all."""
    found, withdrawn = signings(
        [
            *store.records(action=SIGNED, object_type="package", object_id=package_id),
            *store.records(action=WITHDRAWN, object_type="package", object_id=package_id),
        ],
        package_id,
    )
    return stripped_signatures(found, withdrawn, set())


def check_signatures(
    root: Path,
    manifest: dict[str, Any],
    manifest_sha256: str,
    *,
    store: Any = None,
    checkpoint: Any = None,
) -> SignatureCheck:
    """Judge every signature of an unpacked package (see the module docstring).

    With a ``checkpoint`` the verifier kept, each valid signing it covers must
    be in its signed list (:func:`~cmlops.reports.signature_anchor.kept_checkpoint_problems`).
    """
    facts = {
        "package_id": str(manifest.get("package_id", "")),
        "manifest_sha256": manifest_sha256,
        "run_status": str(manifest.get("status", "")),
        "verdict": str((manifest.get("results") or {}).get("verdict", "")),
    }
    out = SignatureCheck()
    try:
        doc = read_signatures_file(root)
    except (OSError, UnicodeDecodeError, ValueError):
        out.problems.append(f"{SIGNATURES} is damaged: not a signatures file")
        return out
    if doc and doc.get("schema") != SIG_SCHEMA:
        out.problems.append(
            f"{SIGNATURES} has schema {doc.get('schema')!r}, not {SIG_SCHEMA}: its signatures "
            "are not bound to registered keys and cannot be accepted"
        )
    elif doc:
        _judge_document(root, doc, manifest, facts, (store, checkpoint), out)
    else:
        if (root / SIGNATURES_HTML).is_file():
            out.problems.append(f"{SIGNATURES_HTML} present without {SIGNATURES}")
        if store is not None:
            out.problems.extend(_stripped_from_store(store, facts["package_id"]))
    return out
