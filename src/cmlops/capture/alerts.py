"""The one writer of ``monitor.alert`` records: one shape, one record per alert, idempotent.

A monitoring result's alerts are evidence that a rule fired; they are recorded
when a tracked cell or block produces the result, or when the user calls
:func:`cmlops.record_alerts` — and whichever comes first, each alert is one record:

* ``action`` ``monitor.alert``; ``object_type`` ``entity``; ``object_id`` the
  result's fingerprint (its entity id in the lineage, see
  :func:`cmlops.capture.namespace.result_content`);
* ``payload`` ``{"monitor_id": <the run's stable id>, "alert": {window, rule,
  observed, threshold, message, column}}``;
* ``reason`` the alert's message.

An alert already recorded for the same result (same canonical payload) is not
recorded again; the check and the append happen under the chain's write lock
(:meth:`cmlops.store.Store.append_decided`), so two writers cannot both add it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cmlops.store import AuditEvent, AuditRecord
from cmlops.store.chain import canonical_payload

ACTION = "monitor.alert"


def alert_events(entity_id: str, content: dict[str, Any]) -> list[AuditEvent]:
    """The ``monitor.alert`` events of a recorded monitor result (content = its ``to_dict()``)."""
    monitor_id = content.get("monitor_id")
    events = []
    for alert in content.get("alerts") or []:
        message = alert.get("message", "") if isinstance(alert, dict) else ""
        payload = {"monitor_id": monitor_id, "alert": alert}
        events.append(AuditEvent(ACTION, "entity", entity_id, payload, str(message or "")))
    return events


def write_alert_events(
    store: Any, events: Sequence[AuditEvent], *, claimed_actor: str | None = None
) -> list[AuditRecord]:
    """Append the events not yet recorded (decided under the write lock); the new records.

    The store records the authenticated actor; ``claimed_actor`` is only a claim beside it.
    """
    if not events:
        return []
    if claimed_actor is not None:
        events = [
            AuditEvent(e.action, e.object_type, e.object_id, e.payload, e.reason, claimed_actor)
            for e in events
        ]

    def decide(read: Callable[..., list[AuditRecord]]) -> list[AuditEvent]:
        recorded: set[tuple[str, str]] = set()
        for object_id in {e.object_id for e in events}:
            for record in read(action=ACTION, object_type="entity", object_id=object_id):
                recorded.add((object_id, record.payload))
        new = []
        for event in events:
            key = (event.object_id, canonical_payload(event.payload))
            if key not in recorded:
                recorded.add(key)
                new.append(event)
        return new

    return store.append_decided(decide)


__all__ = ["ACTION", "alert_events", "write_alert_events"]
