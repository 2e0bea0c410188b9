"""Chain verification for the sidebar: from the last verified head, a full pass on demand.

Re-hashing the whole chain on every click costs O(records); the server keeps
the head it last verified (per store id) and, by default, checks only that this
record still has its hash and recomputes the records after it — O(new records).
That cannot see an edit *before* the kept head (docs/audit-chain.md,
"Verifying"): ``full=True`` recomputes everything from seq 1, as the first
verify of a store and any verify after a failure always do.
"""

from __future__ import annotations

import threading
from typing import Any

from cmlops.store import Anchor, VerifyResult


class ChainCheck:
    """The last verified head of each store this server verified."""

    def __init__(self) -> None:
        self._heads: dict[str, Anchor] = {}
        self._lock = threading.Lock()

    def verify(self, store: Any, *, full: bool = False) -> tuple[VerifyResult, str, Anchor | None]:
        """Verify ``store``; returns the result, ``"full"`` or ``"incremental"``, and the
        head verification started from (None for a full pass)."""
        store_id = store.store_id
        with self._lock:
            since = None if full else self._heads.get(store_id)
        result = store.verify(since=since) if since is not None else store.verify()
        with self._lock:
            if result.ok and result.head is not None:
                self._heads[store_id] = result.head
            else:
                self._heads.pop(store_id, None)  # the next verify is a full one
        return result, "full" if since is None else "incremental", since
