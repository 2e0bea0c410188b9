"""The audit hash chain: canonical form, hashing and verification.

Format (docs/audit-chain.md is the normative description):

* canonical JSON is RFC 8785 (JCS); a record's canonical form is the JCS
  serialisation of the object with keys ``action, actor, object_id,
  object_type, payload, prev_hash, reason, seq, ts`` (everything but ``hash``);
* ``hash = sha256(prev_hash_ascii || canonical_record_utf8)`` in lowercase hex;
* the first record's ``prev_hash`` is 64 zeros (``GENESIS_HASH``).

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
import math
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from cmlops.errors import InvalidAnchorError, InvalidInputError, InvalidRecordError
from cmlops.store.model import Anchor, AuditRecord, BrokenLink, VerifyResult

GENESIS_HASH = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00")

#: columns in the order ``verify`` reads them from a store
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
)


def utc_timestamp(moment: datetime | None = None) -> str:
    """UTC time as ISO 8601 with microseconds and an explicit ``+00:00`` offset."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        raise InvalidRecordError("timestamp has no time zone: give an aware UTC datetime")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


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


_MAX_SAFE_INTEGER = 2**53 - 1


def _is_simple(value: Any, path: str = "payload") -> bool:
    """Check a payload; True when ``json.dumps`` already gives its RFC 8785 form.

    That holds for text, bools, None and integers within IEEE-754's exact range,
    in objects whose keys are ASCII (so code-point order equals JCS's UTF-16
    order). Floats need ECMAScript number formatting, which ``rfc8785`` does.
    Raises for what JSON cannot hold at all.
    """
    if isinstance(value, str):
        if not value.isascii():
            _check_text(path, value)
        return True
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRecordError(f"{path} holds {value!r}: JSON has no NaN/inf, store None")
        return False
    if isinstance(value, dict):
        simple = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidRecordError(f"{path} has a non-text key {key!r}: keys must be text")
            simple = _is_simple(item, f"{path}.{key}") and key.isascii() and simple
        return simple
    if isinstance(value, (list, tuple)):
        simple = True
        for index, item in enumerate(value):
            simple = _is_simple(item, f"{path}[{index}]") and simple
        return simple
    raise InvalidRecordError(
        f"{path} is a {type(value).__name__}: use only dict, list, str, int, float, bool and "
        "None (convert NumPy and pandas values first)"
    )


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of any JSON value: the one canonical form.

    Every hash cmlops takes over JSON — audit payloads, plans, environments,
    signed statements — is taken over these bytes. Raises
    :class:`~cmlops.errors.InvalidRecordError` (a ``ValueError``) for what JSON
    cannot hold (NaN, infinity, non-text keys, lone surrogates, other types).
    """
    return _canonical(value, "value")


def canonical_payload(payload: dict[str, Any]) -> str:
    """RFC 8785 canonical JSON text of a payload object."""
    if not isinstance(payload, dict):
        raise InvalidRecordError(
            f"audit payload must be a JSON object (dict), got {type(payload).__name__}"
        )
    return _canonical(payload, "payload").decode("utf-8")


def _canonical(value: Any, what: str) -> bytes:
    if _is_simple(value, what):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    import rfc8785

    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        noun = "audit payload" if what == "payload" else what
        raise InvalidRecordError(f"{noun} is not canonical JSON ({error})") from None


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
) -> bytes:
    """Canonical (RFC 8785) UTF-8 bytes of a record without its ``hash`` field."""
    return (
        '{"action":'
        + encode_basestring(action)
        + ',"actor":'
        + encode_basestring(actor)
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
) -> AuditRecord:
    """Validate the fields and return the hashed record that follows ``prev_hash``."""
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
        seq, ts, actor, action, object_type, object_id, text, reason, prev_hash
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


def verify_rows(rows: Iterable[tuple], anchor_hash: str | None = None) -> VerifyResult:
    """Recompute the chain over rows ordered by seq (columns as in ``ROW_FIELDS``).

    Detects an edited field (hash mismatch), a deleted or inserted record (seq
    gap or duplicate), reordered records (prev_hash mismatch), and, given an
    anchor taken earlier, a truncated tail (anchor hash not in the chain).
    Timestamps going backwards are warnings: the clock may have been adjusted,
    and hiding that would be worse than flagging it.
    """
    expected_seq = 1
    prev_hash = GENESIS_HASH
    prev_ts = ""
    count = 0
    warnings: list[str] = []
    anchor_found: Anchor | None = None
    canon = canonical_record
    sha = hashlib.sha256
    for seq, ts, actor, action, otype, oid, payload, reason, row_prev, row_hash in rows:
        if seq != expected_seq:
            what = "missing record(s)" if seq > expected_seq else "duplicate or inserted record"
            return _broken(
                count, prev_hash, seq, f"expected seq {expected_seq}, found {seq}: {what}"
            )
        if row_prev != prev_hash:
            return _broken(
                count,
                prev_hash,
                seq,
                f"prev_hash {row_prev} does not match the hash of seq {seq - 1} ({prev_hash}): "
                "a record was removed, inserted or reordered",
            )
        try:
            data = canon(seq, ts, actor, action, otype, oid, payload, reason, row_prev)
        except (TypeError, AttributeError):
            return _broken(count, prev_hash, seq, "a field has the wrong type")
        actual = sha(row_prev.encode("ascii") + data).hexdigest()
        if actual != row_hash:
            return _broken(
                count, prev_hash, seq, f"hash mismatch (stored {row_hash}, recomputed {actual})"
            )
        if ts < prev_ts:
            warnings.append(
                f"seq {seq}: timestamp {ts} is earlier than its predecessor's {prev_ts}"
            )
        if anchor_hash is not None and row_hash == anchor_hash:
            anchor_found = Anchor(seq, row_hash)
        prev_ts = ts
        prev_hash = row_hash
        expected_seq += 1
        count += 1
    head = Anchor(expected_seq - 1, prev_hash) if count else None
    result = VerifyResult(ok=True, records=count, head=head, anchor=anchor_found, warnings=warnings)
    if anchor_hash is not None and anchor_found is None:
        result.ok = False
        last = head.seq if head else 0
        result.broken = BrokenLink(
            last + 1,
            f"anchor {anchor_hash} is not in the chain (head is seq {last}): records after the "
            "anchor point were removed, or the chain was rewritten",
        )
    return result


def _broken(count: int, prev_hash: str, seq: int, reason: str) -> VerifyResult:
    head = Anchor(count, prev_hash) if count else None
    return VerifyResult(ok=False, records=count, head=head, broken=BrokenLink(seq, reason))


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
        payload = canonical_payload(item["payload"])
        yield tuple(item[name] if name != "payload" else payload for name in ROW_FIELDS)


def _record_shape_problem(item: Any) -> str:
    if not isinstance(item, dict):
        return f"a {type(item).__name__}, not an object"
    missing = [name for name in ROW_FIELDS if name not in item]
    if missing:
        return "missing " + ", ".join(missing)
    if not isinstance(item["seq"], int) or isinstance(item["seq"], bool):
        return "seq is not an integer"
    if not isinstance(item["payload"], dict):
        return "payload is not an object"
    wrong = [n for n in ROW_FIELDS if n not in ("seq", "payload") and not isinstance(item[n], str)]
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
    payload = canonical_payload(item["payload"])
    fields = {name: item[name] for name in ROW_FIELDS if name != "payload"}
    record = AuditRecord(**fields, payload=payload)
    canonical = canonical_record(
        record.seq,
        record.ts,
        record.actor,
        record.action,
        record.object_type,
        record.object_id,
        payload,
        record.reason,
        record.prev_hash,
    )
    if record_hash(record.prev_hash, canonical) != record.hash:
        raise InvalidRecordError(
            f"record seq {record.seq}: its hash does not match its content (the record was altered)"
        )
    return record
