"""One canonical-JSON entry point (store.chain.canonical_json) — equal to RFC 8785, used by all."""

from __future__ import annotations

import ast
import json
import random
from pathlib import Path

import pytest
import rfc8785

from cmlops.errors import InvalidRecordError
from cmlops.store.chain import canonical_json, canonical_payload
from cmlops.store.values import encode_value

SOURCE = Path(__file__).resolve().parents[1] / "src" / "cmlops"


def _random_value(rng: random.Random, depth: int = 0) -> object:
    alphabet = [chr(c) for c in range(0, 0x80)] + ["é", "漢", "🧪", "\u2028", "\ufffd"]
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    choice = rng.randint(0, 8 if depth < 3 else 5)
    if choice == 0:
        return text
    if choice == 1:
        return rng.choice([None, True, False])
    if choice == 2:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if choice == 3:
        return rng.uniform(-1e300, 1e300) * rng.choice([1, 1e-300, 1e-10])
    if choice == 4:
        return rng.choice([0.1, 1e21, 1e-7, -0.0, 5e-324, 2.0**60])
    if choice == 5:
        return rng.randint(0, 9) / 7
    if choice in (6, 7):
        return {text + str(i): _random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


@pytest.mark.req("REQ-AUD-006")
def test_canonical_json_equals_rfc8785_on_random_values() -> None:
    """Equal to rfc8785 of the value with non-I-JSON numbers tagged (2.0**60, -0.0, 1e21 ...),
    and rfc8785 re-canonicalises the parsed bytes to the same bytes (docs/audit-chain.md)."""
    rng = random.Random(14)
    for _ in range(2000):
        value = _random_value(rng)
        assert canonical_json(value) == rfc8785.dumps(encode_value(value)), value
        assert rfc8785.dumps(json.loads(canonical_json(value))) == canonical_json(value)


def test_payload_text_is_the_same_canonical_form() -> None:
    payload = {"b": [1, 2.5, "é"], "a": {"z": None, "ü": True}}
    assert canonical_payload(payload).encode() == canonical_json(payload) == rfc8785.dumps(payload)


@pytest.mark.parametrize("bad", [{1: "non-text key"}, [object()], {"x": {1.5}}])
def test_what_json_cannot_hold_is_a_one_line_error(bad: object) -> None:
    with pytest.raises(InvalidRecordError) as info:
        canonical_json(bad)
    assert "\n" not in str(info.value)


def test_rfc8785_is_used_in_one_place_only() -> None:
    """Plans, environments, payloads and signed statements are hashed over one form."""
    users = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "rfc8785" for name in names):
                users.append(path.relative_to(SOURCE).as_posix())
    # the chain's canonical form lives in store/values.py; the selftest's OQ re-hashes an
    # export with the rfc8785 package *instead of* that form, as an independent verifier
    assert users == ["selftest/oq_audit.py", "store/values.py"]
