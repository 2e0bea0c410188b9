"""Refused attempts are evidence too: who tried what, and why it was refused.

A signing, key registration, revocation or policy change that cmlops refuses
raises a one-line error *and* leaves a ``<thing>.refused`` record in the audit
chain (``package.sign_refused``, ``key.register_refused``,
``key.revoke_refused``, ``policy.change_refused``) whose actor is the
authenticated user, whose payload names the attempt and whose reason is the
refusal. Nothing else is written: no signature, no policy, no key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cmlops.errors import InvalidInputError


@contextmanager
def recorded_refusal(
    store: Any, action: str, object_type: str, object_id: str, attempt: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Run the block; if it raises a bad-input error, record the refusal, then re-raise.

    The yielded dict may be updated inside the block with facts learned on the
    way (a key id, a package id) so the refusal record names them.
    """
    details = dict(attempt)
    try:
        yield details
    except InvalidInputError as error:
        message = " ".join(str(error).split())
        store.append(
            action,
            object_type,
            details.pop("object_id", None) or object_id or "unknown",
            {**details, "refusal": message},
            reason=message,
        )
        raise
