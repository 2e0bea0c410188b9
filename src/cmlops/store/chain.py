"""The audit hash chain: canonical form, hashing and verification.

Format (docs/audit-chain.md is the normative description):

* canonical JSON is RFC 8785 (JCS); a record's canonical form is the JCS
  serialisation of the record without its ``hash`` member: ``action, actor,
  object_id, object_type, payload, prev_hash, reason, seq, ts`` and, in record
  format 2, ``context`` (who, where and with what the record was written);
* ``hash = sha256(prev_hash_ascii || canonical_record_utf8)`` in lowercase hex;
* the first record's ``prev_hash`` is 64 zeros (``GENESIS_HASH``);
* values JSON or I-JSON cannot carry exactly (integers beyond ±(2^53 − 1),
  floats of magnitude ≥ 2^53, NaN, ±infinity, -0.0, text with lone
  surrogates) are written as tagged strings (:mod:`cmlops.store.values`), so
  every record re-canonicalises with any RFC 8785 library.

Payloads are canonicalised once, when written (with the ``rfc8785`` package),
and stored as that text. The record envelope is then built by string
concatenation: its keys are fixed and ASCII, its other values are strings and
one integer, and for valid Unicode strings the C-accelerated
``json.encoder.encode_basestring`` escapes exactly as JCS does (quote, backslash
and U+0000–U+001F, with the short forms and lowercase ``\\u00xx``). A test
checks this fast path against ``rfc8785`` on hostile strings. That is what lets
``verify`` run at hundreds of thousands of records a second.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from cmlops.errors import InvalidAnchorError, InvalidInputError, InvalidRecordError
from cmlops.store.model import Anchor, AuditRecord, BrokenLink, VerifyResult
from cmlops.store.values import (
    canonical_json,
    canonical_payload,
    recanonical_json,
    reverify_canonical,
)

GENESIS_HASH = "0" * 64
#: the record format cmlops writes: 2 adds the ``context`` member
RECORD_FORMAT = 2
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")

#: columns in the order ``verify`` reads them from a store (``context`` is NULL in format 1)
ROW_FIELDS = (
    "seq",
    "ts",
    "actor",
    "action",
    "object_type",
    "object_id",
    "payload",
    "reason",
    "prev_hash",
    "hash",
    "context",
)

__all__ = [
    "GENESIS_HASH",
    "RECORD_FORMAT",
    "ROW_FIELDS",
    "canonical_json",
    "canonical_payload",
    "canonical_record",
    "iter_jsonl_rows",
    "parse_anchor",
    "recanonical_json",
    "record_from_dict",
    "record_hash",
    "row_from_dict",
    "seal",
    "utc_timestamp",
    "verify_rows",
]


def utc_timestamp(moment: datetime | None = None) -> str:
    """UTC time as ISO 8601 with microseconds and an explicit ``+00:00`` offset."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise InvalidRecordError("timestamp has no time zone: give an aware UTC datetime")
    try:
        return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
    except OverflowError:
        raise InvalidInputError(
            f"time {moment.isoformat()} is outside the years 1-9999 once converted to UTC: "
            "give a time within that range"
        ) from None


def _check_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRecordError(f"audit field {name!r} must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidRecordError(
            f"audit field {name!r} contains a lone surrogate at position {error.start}: "
            "pass valid Unicode text"
        ) from None
    return value


def canonical_record(
    seq: int,
    ts: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: str,
    reason: str,
    prev_hash: str,
    context: str | None = None,
) -> bytes:
    """Canonical (RFC 8785) UTF-8 bytes of a record without its ``hash`` field.

    ``payload`` and ``context`` are canonical JSON texts; ``context`` None is
    a format-1 record (no ``context`` member).
    """
    return (
        '{"action":'
        + encode_basestring(action)
        + ',"actor":'
        + encode_basestring(actor)
        + ("" if context is None else ',"context":' + context)
        + ',"object_id":'
        + encode_basestring(object_id)
        + ',"object_type":'
        + encode_basestring(object_type)
        + ',"payload":'
        + payload
        + ',"prev_hash":"'
        + prev_hash
        + '","reason":'
        + encode_basestring(reason)
        + ',"seq":'
        + str(seq)
        + ',"ts":"'
        + ts
        + '"}'
    ).encode("utf-8")


def record_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def seal(
    seq: int,
    ts: str,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
    reason: str,
    prev_hash: str,
    context: str | None = None,
) -> AuditRecord:
    """Validate the fields and return the hashed record that follows ``prev_hash``.

    ``context`` is the canonical JSON text of the record's context object
    (format 2); None seals a format-1 record (tests of old stores only).
    """
    fields = {"actor": actor, "action": action, "object_type": object_type}
    for name, value in {**fields, "object_id": object_id, "reason": reason}.items():
        _check_text(name, value)
    for name, value in fields.items():
        if not value:
            raise InvalidRecordError(f"audit field {name!r} is empty: give a non-empty value")
    if not _TS.fullmatch(ts):
        raise InvalidRecordError(f"timestamp {ts!r} is not UTC ISO 8601 with microseconds")
    text = canonical_payload(payload)
    canonical = canonical_record(
        seq, ts, actor, action, object_type, object_id, text, reason, prev_hash, context
    )
    return AuditRecord(
        seq=seq,
        ts=ts,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=text,
        reason=reason,
        prev_hash=prev_hash,
        hash=record_hash(prev_hash, canonical),
        context=context,
    )


def parse_anchor(text: str) -> str:
    """Accept ``HASH`` or ``SEQ:HASH`` (as ``cmlops audit anchor`` prints); return the hash."""
    candidate = text.strip().lower()
    if ":" in candidate:
        seq, _, candidate = candidate.partition(":")
        if not seq.isdigit():
            raise InvalidAnchorError(
                f"anchor {text!r} is not SEQ:HASH: use the line `cmlops audit anchor` printed"
            )
    if not _HEX64.fullmatch(candidate):
        raise InvalidAnchorError(
            f"anchor {text!r} is not a 64-character hex SHA-256 hash: use the value "
            "`cmlops audit anchor` printed"
        )
    return candidate


def verify_rows(
    rows: Iterable[tuple],
    anchor_hash: str | None = None,
    *,
    start: Anchor | None = None,
    start_format: int = 1,
) -> VerifyResult:
    """Recompute the chain over rows ordered by seq (columns as in ``ROW_FIELDS``).

    Detects an edited field (hash mismatch), a deleted or inserted record (seq
    gap or duplicate), reordered records (prev_hash mismatch), a format-1
    record after format 2 began (written by an old cmlops or forged to drop
    its context), and, given an anchor taken earlier, a truncated tail (anchor
    hash not in the chain). Timestamps going backwards are warnings: the clock
    may have been adjusted, and hiding that would be worse than flagging it.

    ``start`` verifies only the records after an already verified head (the
    rows must begin right after it; ``start_format`` is that head's format):
    what lies before it is *not* re-checked.
    """
    check = _ChainCheck(start, start_format, anchor_hash)
    for row in rows:
        problem = check.step(row)
        if problem:
            return check.broken(row[0], problem)
    return check.result()


class _ChainCheck:
    """The state of one pass over the chain; ``step`` returns the problem of a row, if any."""

    def __init__(self, start: Anchor | None, start_format: int, anchor_hash: str | None) -> None:
        self.start = start
        self.seq = start.seq if start else 0
        self.prev_hash = start.hash if start else GENESIS_HASH
        self.prev_ts = ""
        self.count = 0
        self.format2 = start_format >= 2
        self.anchor_hash = anchor_hash
        self.anchor_found: Anchor | None = None
        self.warnings: list[str] = []

    def step(self, row: tuple) -> str:
        seq, ts, actor, action, otype, oid, payload, reason, row_prev, row_hash, context = row
        expected = self.seq + 1
        if seq != expected:
            what = "missing record(s)" if seq > expected else "duplicate or inserted record"
            return f"expected seq {expected}, found {seq}: {what}"
        if row_prev != self.prev_hash:
            return (
                f"prev_hash {row_prev} does not match the hash of seq {seq - 1} "
                f"({self.prev_hash}): a record was removed, inserted or reordered"
            )
        if context is None and self.format2:
            return (
                "record has no context although an earlier record has (format 2): written by "
                "an old cmlops or stripped of its context"
            )
        try:
            data = canonical_record(
                seq, ts, actor, action, otype, oid, payload, reason, row_prev, context
            )
            actual = hashlib.sha256(row_prev.encode("ascii") + data).hexdigest()
        except (TypeError, AttributeError, UnicodeEncodeError):
            return "a field has the wrong type"
        if actual != row_hash:
            return f"hash mismatch (stored {row_hash}, recomputed {actual})"
        if ts < self.prev_ts:
            self.warnings.append(
                f"seq {seq}: timestamp {ts} is earlier than its predecessor's {self.prev_ts}"
            )
        if row_hash == self.anchor_hash:
            self.anchor_found = Anchor(seq, row_hash)
        self.format2 = self.format2 or context is not None
        self.prev_ts, self.prev_hash, self.seq = ts, row_hash, seq
        self.count += 1
        return ""

    def _head(self) -> Anchor | None:
        return Anchor(self.seq, self.prev_hash) if self.seq else None

    def broken(self, seq: int, reason: str) -> VerifyResult:
        return VerifyResult(
            ok=False,
            records=self.count,
            head=self._head(),
            broken=BrokenLink(seq, reason),
            warnings=self.warnings,
        )

    def result(self) -> VerifyResult:
        head = self._head()
        result = VerifyResult(
            ok=True, records=self.count, head=head, anchor=self.anchor_found, warnings=self.warnings
        )
        if self.anchor_hash is not None and self.anchor_found is None:
            if self.start is not None and self.start.hash == self.anchor_hash:
                result.anchor = self.start
                return result
            result.ok = False
            last = head.seq if head else 0
            result.broken = BrokenLink(
                last + 1,
                f"anchor {self.anchor_hash} is not in the chain (head is seq {last}): records "
                "after the anchor point were removed, or the chain was rewritten",
            )
        return result


def row_from_dict(item: dict[str, Any]) -> tuple:
    """A ``verify_rows`` row from a record as exported (payload and context re-canonicalised)."""
    context = item.get("context")
    return (
        item["seq"],
        item["ts"],
        item["actor"],
        item["action"],
        item["object_type"],
        item["object_id"],
        reverify_canonical(item["payload"]),
        item["reason"],
        item["prev_hash"],
        item["hash"],
        None if context is None else reverify_canonical(context),
    )


def iter_jsonl_rows(lines: Iterable[str]) -> Iterator[tuple]:
    """Rows for ``verify_rows`` from a JSON Lines export (re-canonicalising payloads).

    A line that is not an audit record is an error naming the line: a damaged
    export cannot be verified, and saying so beats a misleading "broken link".
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            raise InvalidInputError(
                f"line {number} of the export is not JSON ({error}): the export is damaged"
            ) from None
        problem = _record_shape_problem(item)
        if problem:
            raise InvalidInputError(
                f"line {number} of the export is not an audit record ({problem}): the export "
                "is damaged"
            )
        try:
            yield row_from_dict(item)
        except InvalidRecordError as error:
            raise InvalidInputError(
                f"line {number} of the export cannot be canonicalised ({error}): the export "
                "is damaged"
            ) from None


_REQUIRED = ROW_FIELDS[:-1]


def _record_shape_problem(item: Any) -> str:
    if not isinstance(item, dict):
        return f"a {type(item).__name__}, not an object"
    missing = [name for name in _REQUIRED if name not in item]
    if missing:
        return "missing " + ", ".join(missing)
    unknown = sorted(set(item) - set(ROW_FIELDS))
    if unknown:
        return "unknown member(s) " + ", ".join(unknown)
    if not isinstance(item["seq"], int) or isinstance(item["seq"], bool):
        return "seq is not an integer"
    if not isinstance(item["payload"], dict):
        return "payload is not an object"
    if "context" in item and not isinstance(item["context"], dict):
        return "context is not an object"
    wrong = [n for n in _REQUIRED if n not in ("seq", "payload") and not isinstance(item[n], str)]
    return f"{', '.join(wrong)} not text" if wrong else ""


def record_from_dict(item: Any) -> AuditRecord:
    """An audit record from its JSON form (export, package extract), its hash recomputed.

    Raises :class:`InvalidRecordError` when the object is not a record or its
    ``hash`` is not the hash of its content: such a record proves nothing.
    """
    problem = _record_shape_problem(item)
    if not problem and not (_HEX64.fullmatch(item["prev_hash"]) and _HEX64.fullmatch(item["hash"])):
        problem = "prev_hash or hash is not 64 lowercase hexadecimal digits"
    if problem:
        raise InvalidRecordError(f"not an audit record ({problem})")
    row = row_from_dict(item)
    record = AuditRecord(**dict(zip(ROW_FIELDS, row, strict=True)))
    canonical = canonical_record(*row[:9], row[10])
    if record_hash(record.prev_hash, canonical) != record.hash:
        raise InvalidRecordError(
            f"record seq {record.seq}: its hash does not match its content (the record was altered)"
        )
    return record
