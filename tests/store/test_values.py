"""Values outside I-JSON are sealed as tagged strings, so every record re-verifies with rfc8785."""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
from enum import IntEnum

import numpy as np
import pytest
import rfc8785

from cmlops.store.chain import GENESIS_HASH, seal
from cmlops.store.values import canonical_payload, decode_value, encode_value

TS = "2026-11-22T10:00:00.000001+00:00"

TAGGED = [
    (2**53, "cmlops:num:9007199254740992"),
    (-(2**63), "cmlops:num:-9223372036854775808"),
    (10**30, "cmlops:num:1000000000000000000000000000000"),
    (1e16, "cmlops:num:1e+16"),
    (2.0**53, "cmlops:num:9007199254740992.0"),
    (-1.5e300, "cmlops:num:-1.5e+300"),
    (float("nan"), "cmlops:num:NaN"),
    (float("inf"), "cmlops:num:Infinity"),
    (float("-inf"), "cmlops:num:-Infinity"),
    (-0.0, "cmlops:num:-0.0"),
    ("cmlops:num:1", "cmlops:str:cmlops:num:1"),
    ("cmlops:str:x", "cmlops:str:cmlops:str:x"),
    ("cmlops:json:x", "cmlops:str:cmlops:json:x"),
    ("bad \udcff name.csv", 'cmlops:json:"bad \\udcff name.csv"'),
]
UNCHANGED = [2**53 - 1, -(2**53 - 1), 1.5, 0.0, 9007199254740991.0, "cmlops:other", "cmlops", ""]


def same(a: object, b: object) -> bool:
    """Equality that tells NaN from NaN equal and -0.0 from 0.0 apart."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("value", "tagged"), TAGGED, ids=[t for _, t in TAGGED])
def test_each_unsafe_value_has_its_documented_tag_and_decodes_back(value, tagged) -> None:
    assert encode_value(value) == tagged
    assert same(decode_value(tagged), value)
    text = canonical_payload({"v": value, tagged: value})  # as a key too
    assert json.loads(text) == {"v": tagged, encode_value(tagged): tagged}
    assert text == rfc8785.dumps(json.loads(text)).decode()  # rfc8785 re-canonicalises it


@pytest.mark.parametrize("value", UNCHANGED)
def test_safe_values_are_left_alone(value) -> None:
    assert same(encode_value(value), value)
    assert canonical_payload({"v": value}) == rfc8785.dumps({"v": value}).decode()


def test_scalar_subclasses_are_stored_as_plain_values() -> None:
    class Level(IntEnum):
        HIGH = 3

    payload = {"f": np.float64(0.25), "i": Level.HIGH, "big": np.float64(1e17)}
    assert json.loads(canonical_payload(payload)) == {"f": 0.25, "i": 3, "big": "cmlops:num:1e+17"}


def random_value(rng: random.Random, depth: int = 0) -> object:
    specials = [
        2**53,
        -(2**70),
        1e16,
        -1e300,
        float("nan"),
        float("inf"),
        -0.0,
        "cmlops:num:7",
        "x\ud800y",
        "é🧪\u2028",
        rng.random(),
        rng.randint(-(2**53) + 1, 2**53 - 1),
        None,
        True,
    ]
    if depth < 3 and rng.random() < 0.3:
        return {str(rng.choice(specials)): random_value(rng, depth + 1) for _ in range(3)}
    if depth < 3 and rng.random() < 0.2:
        return [random_value(rng, depth + 1) for _ in range(3)]
    return rng.choice(specials)


def test_random_payloads_round_trip_and_canonicalise_like_rfc8785() -> None:
    rng = random.Random(7493)
    for _ in range(1500):
        payload = {"k": random_value(rng), "l": [random_value(rng), random_value(rng)]}
        text = canonical_payload(payload)
        assert text == rfc8785.dumps(encode_value(payload)).decode()
        assert same(decode_value(json.loads(text)), payload)


@pytest.mark.req("REQ-AUD-006")
def test_a_record_with_every_unsafe_value_reverifies_with_rfc8785_alone() -> None:
    """What a third party does with an exported line: rfc8785 + SHA-256, nothing of cmlops."""
    payload = {"params": {"C": 1e16, "tol": 1e-4}, "auc": float("nan"), "n": 2**60}
    payload |= {"neg": -0.0, "path": "data/\udcff.csv", "cmlops:num:1": "cmlops:num:1"}
    context = canonical_payload({"actor_source": "os", "pid": 1})
    record = seal(1, TS, "alice", "model.fitted", "entity", "m", payload, "", GENESIS_HASH, context)
    line = io.StringIO(json.dumps(record.to_dict())).getvalue()
    exported = json.loads(line)
    claimed = exported.pop("hash")
    digest = hashlib.sha256(GENESIS_HASH.encode() + rfc8785.dumps(exported)).hexdigest()
    assert digest == claimed
    assert same(record.payload_values(), payload)
