"""The canonical form and hashing match RFC 8785 exactly, including hostile text."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
import rfc8785

from cmlops.errors import InvalidAnchorError, InvalidRecordError
from cmlops.store.chain import (
    GENESIS_HASH,
    canonical_payload,
    canonical_record,
    parse_anchor,
    seal,
)

TS = "2026-11-22T10:00:00.000001+00:00"
HOSTILE = [
    "",
    'quote " and backslash \\',
    "control \x00\x01\x07\x08\x0b\x0c\x1f and \n\r\t",
    "unicode é ü 漢字 🧪 \u2028 \u2029 \u007f \u0080 \ufeff",
    "<script>alert(1)</script>",
    "'; DROP TABLE audit_log; --",
]


def random_text(rng: random.Random) -> str:
    alphabet = [chr(c) for c in range(0, 0x80)] + ["é", "漢", "🧪", "\u2028", "\ufffd"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))


def reference_canonical(**record: object) -> bytes:
    """Independent canonicalisation of the whole record with the rfc8785 package."""
    record = dict(record)
    record["payload"] = json.loads(record["payload"])
    if record.get("context") is None:
        record.pop("context", None)  # a format-1 record has no context member
    else:
        record["context"] = json.loads(record["context"])
    return rfc8785.dumps(record)


@pytest.mark.parametrize("context", [None, {"host": "h\u2028", "pid": 7, "é": "x"}])
@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.req("REQ-AUD-006")
def test_fast_canonical_form_equals_rfc8785_on_hostile_text(text: str, context) -> None:
    payload = canonical_payload({"value": text, "n": 1.5, "list": [None, True, 10**15]})
    fields = dict(
        seq=7,
        ts=TS,
        actor=text or "a",
        action="x." + text,
        object_type="t",
        object_id=text,
        payload=payload,
        reason=text,
        prev_hash=GENESIS_HASH,
        context=None if context is None else canonical_payload({**context, "t": text}),
    )
    assert canonical_record(**fields) == reference_canonical(**fields)


@pytest.mark.req("REQ-AUD-006")
def test_fast_canonical_form_equals_rfc8785_on_random_text() -> None:
    rng = random.Random(8785)
    for seq in range(1, 2000):
        payload = canonical_payload({random_text(rng): random_text(rng), "f": rng.random()})
        fields = dict(
            seq=seq,
            ts=TS,
            actor=random_text(rng),
            action=random_text(rng),
            object_type=random_text(rng),
            object_id=random_text(rng),
            payload=payload,
            reason=random_text(rng),
            prev_hash="ab" * 32,
            context=canonical_payload({random_text(rng): random_text(rng), "pid": seq}),
        )
        assert canonical_record(**fields) == reference_canonical(**fields)


def test_payload_fast_path_equals_rfc8785() -> None:
    rng = random.Random(11)
    samples = [
        {"a": 1, "b": [True, False, None], "c": {"z": "x", "y": -(2**53 - 1)}},
        {"big": 2**53 - 1, "neg": -7, "text": "é漢🧪\u2028\x00"},
        {"é": 1, "🧪": 2, "\ue000": 3, "a": 4},  # non-ASCII keys: UTF-16 order
        {"f": 1.0, "g": 1e-21, "h": 5e-7, "i": 0.0, "j": 9007199254740991.0},  # ECMAScript
    ]
    samples += [
        {random_text(rng): rng.randint(-(10**6), 10**6) for _ in range(5)} for _ in range(300)
    ]
    for payload in samples:
        assert canonical_payload(payload) == rfc8785.dumps(payload).decode()


@pytest.mark.parametrize("context", [None, '{"actor_source":"os","pid":1}'])
@pytest.mark.req("REQ-AUD-001")
def test_hash_is_sha256_of_prev_hash_then_canonical_record(context) -> None:
    record = seal(
        1, TS, "alice", "dataset.used", "entity", "e1", {"rows": 3}, "", GENESIS_HASH, context
    )
    fields = {k: v for k, v in record.__dict__.items() if k != "hash"}
    expected = hashlib.sha256(GENESIS_HASH.encode() + reference_canonical(**fields)).hexdigest()
    assert record.hash == expected
    assert record.payload == '{"rows":3}'
    assert ("context" in record.to_dict()) == (context is not None)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "JSON object"),
        ({"x": object()}, "use only dict"),
        ({1: "x"}, "non-text key"),
    ],
)
def test_payloads_that_json_cannot_hold_are_refused(payload: object, message: str) -> None:
    with pytest.raises(InvalidRecordError, match=message):
        seal(1, TS, "a", "x", "t", "1", payload, "", GENESIS_HASH)  # type: ignore[arg-type]


def test_lone_surrogates_and_empty_fields_are_refused() -> None:
    with pytest.raises(InvalidRecordError, match="lone surrogate"):
        seal(1, TS, "a\ud800", "x", "t", "1", {}, "", GENESIS_HASH)
    with pytest.raises(InvalidRecordError, match="empty"):
        seal(1, TS, "a", "", "t", "1", {}, "", GENESIS_HASH)
    with pytest.raises(InvalidRecordError, match="UTC ISO 8601"):
        seal(1, "2026-11-22 10:00", "a", "x", "t", "1", {}, "", GENESIS_HASH)


def test_anchor_parsing_accepts_hash_or_seq_hash_and_rejects_the_rest() -> None:
    digest = "0123456789abcdef" * 4
    assert parse_anchor(digest) == digest
    assert parse_anchor(f"12:{digest.upper()}") == digest
    for bad in ("", "xyz", digest[:-1], f"a:{digest}", digest + "0", "g" * 64):
        with pytest.raises(InvalidAnchorError):
            parse_anchor(bad)
