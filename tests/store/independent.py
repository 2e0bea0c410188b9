"""A third party's verifier: the documented format, json, hashlib, rfc8785 — nothing of cmlops."""

from __future__ import annotations

import hashlib
import json

import rfc8785


def verify_export(text: str) -> int:
    """Re-verify a JSON Lines export; returns the number of records. Raises on any break."""
    prev, count = "0" * 64, 0
    for line in text.split("\n"):  # not splitlines(): U+2028 inside a record is text
        if not line:
            continue
        record = json.loads(line)
        claimed = record.pop("hash")
        assert record["seq"] == count + 1, f"seq {record['seq']} out of order"
        assert record["prev_hash"] == prev, f"seq {record['seq']}: prev_hash does not link"
        digest = hashlib.sha256(prev.encode("ascii") + rfc8785.dumps(record)).hexdigest()
        assert digest == claimed, f"seq {record['seq']}: hash mismatch"
        prev, count = claimed, count + 1
    return count


def verify_extract(text: str) -> int:
    """Re-hash each record of a package's audit extract (a subset: links are not consecutive).

    Returns the number of records; raises when one record's hash is not
    sha256(prev_hash || RFC8785(record without hash)).
    """
    count = 0
    for line in text.split("\n"):
        if not line:
            continue
        record = json.loads(line)
        claimed = record.pop("hash")
        digest = hashlib.sha256(record["prev_hash"].encode("ascii") + rfc8785.dumps(record))
        assert digest.hexdigest() == claimed, f"seq {record['seq']}: hash mismatch"
        count += 1
    return count
