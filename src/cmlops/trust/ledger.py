"""The trust facts of a chain: its key registry and policy history, derived in one pass.

Keys and policies depend on each other — an admin (a policy role) may register
keys for others, and a policy change is signed with a registered key — so both
are derived together, record by record in ``seq`` order, each record judged by
the state just before it. The same derivation runs on a live store and on the
records an audit package carries, so a verifier offline reaches the same
verdict as one with the store (given the same records).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cmlops.store.model import AuditRecord
from cmlops.trust.policy import CHANGED, PolicyHistory
from cmlops.trust.registry import KEY_ACTIONS, REGISTERED, KeyRegistry

STORE_INIT = "store.init"


@dataclass
class TrustLedger:
    """Key registry and policy history of one store, as of the records applied so far."""

    store_id: str
    registry: KeyRegistry = field(default_factory=KeyRegistry)
    policies: PolicyHistory = field(default_factory=PolicyHistory)

    def may_administer(self, actor: str, seq: int) -> bool:
        return self.policies.holds(actor, "admin", seq)

    def apply(self, record: AuditRecord) -> None:
        if record.action in KEY_ACTIONS:
            self.registry.apply(record, self.may_administer)
        elif record.action == CHANGED:
            self.policies.apply(record, self.registry, self.store_id)

    @property
    def problems(self) -> list[str]:
        return [*self.registry.problems, *self.policies.problems]

    @classmethod
    def from_records(cls, store_id: str, records: Iterable[AuditRecord]) -> TrustLedger:
        ledger = cls(store_id)
        for record in sorted(records, key=lambda r: r.seq):
            ledger.apply(record)
        return ledger


def trust_records(store: Any, until_seq: int | None = None) -> list[AuditRecord]:
    """The store's ``key.*`` and ``policy.changed`` records (up to ``until_seq``)."""
    found = store.records(action="key.*") + store.records(action=CHANGED)
    return sorted(
        (r for r in found if until_seq is None or r.seq <= until_seq), key=lambda r: r.seq
    )


def load_ledger(store: Any, until_seq: int | None = None) -> TrustLedger:
    """The ledger of a live store."""
    return TrustLedger.from_records(store.store_id, trust_records(store, until_seq))


def key_records(store: Any, key_id: str, upto_seq: int) -> list[AuditRecord]:
    """The records that decide whether ``key_id`` was active: its owner's key records, every policy.

    (Policy records matter because an admin may have registered the key.)
    """
    found = [r for r in store.records(action=REGISTERED, object_id=key_id) if r.seq <= upto_seq]
    owners = {r.payload_dict().get("user_id") for r in found}
    return [
        r
        for r in trust_records(store, upto_seq)
        if r.action == CHANGED or r.payload_dict().get("user_id") in owners
    ]


def key_problem(
    records: Iterable[AuditRecord],
    store_id: str,
    signer: str,
    key_id: str,
    public_key: str,
    seq: int,
    ts: str,
) -> str:
    """'' when ``key_id`` (with ``public_key``) was ``signer``'s registered key, active for a
    record at ``(seq, ts)``, as derived from ``records``; else why not."""
    key = TrustLedger.from_records(store_id, records).registry.keys.get(key_id)
    if key is None:
        return f"key {key_id} is not registered in the audit chain"
    if key.user_id != signer or key.public_key != public_key:
        return f"key {key_id} is registered for {key.user_id!r}, not {signer!r}"
    return key.problem_at(seq, ts)
