"""The audit trail as a reviewer reads it: each record named, and grouped by its activity.

A tracked cell writes a batch of records — the data sets and model it touched
(``lineage.entity``), who ran it (``lineage.agent``), the environment, the cell
itself (``lineage.activity``) and the relations between them — whose object ids are
fingerprints and UUIDs. A report run writes ``plan.recorded``, ``report.started``,
its lineage, ``report.finished`` and ``package.created``. This module adds to each
record of an audit page:

* ``label`` — what the record is about, in names: ``cell [3] df = pd.read_csv(…)
  used dataset "patients.csv" (input)``, ``report "data_validation" started``;
* ``group`` — the key of the activity it belongs to (a cell's activity id, a report
  run's ``report:<run id>``), and the page gets ``groups``: each key's label, kind,
  notebook, status and start.

Nothing is inferred from names or times: a relation names its activity in its
payload; an entity, agent or environment record belongs to the activity whose
relation (or environment id) is the first to mention it after it in the log, read
from this page and the records just after it. Records are never changed; raw ids
stay in each record for the reviewer who wants them. Names come from the store
(entities, activities and agents are immutable, so they are cached).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

#: how many records after a page are read to find the activity of its newest records
LOOKAHEAD = 64
_RELATIONS = {"lineage.used", "lineage.generated", "lineage.derived", "lineage.associated"}
_NODES = {"lineage.entity": "entity", "lineage.agent": "agent", "lineage.environment": "env"}
MAX_LABEL = 160


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


class Names:
    """Immutable lineage objects by id, cached (entities, activities, agents never change)."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: Any, kind: str, key: str) -> Any:
        with self._lock:
            if (kind, key) in self._items:
                return self._items[(kind, key)]
        getter = {"entity": store.get_entity, "activity": store.get_activity}.get(kind)
        found = (getter or store.get_agent)(key) if key else None
        if found is not None:
            with self._lock:
                self._items[(kind, key)] = found
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return found

    def remember(self, kind: str, payload: dict[str, Any]) -> None:
        """An object whose record is on the page: no need to ask the store for it."""
        from cmlops.store import Activity, Agent, Entity

        cls = {"entity": Entity, "activity": Activity, "agent": Agent}[kind]
        try:
            item = cls(**payload)
        except TypeError:  # a payload of another record format: ask the store instead
            return
        with self._lock:
            self._items[(kind, item.id)] = item


def activity_label(activity: Any) -> str:
    """A tracked cell by its name, else its execution count and first line of code."""
    if activity is None:
        return "an activity"
    if activity.kind == "report":
        return f'report "{_short(activity.name, 40)}"'
    if activity.name:
        return f'{activity.kind} "{_short(activity.name, 40)}"'
    count = (activity.attributes or {}).get("execution_count")
    lines = [ln for ln in (activity.code or "").splitlines() if ln.strip() and ln[:2] != "%%"]
    code = _short(lines[0], 48) if lines else ""
    prefix = f"[{count}] " if isinstance(count, int) else ""
    return f"{activity.kind} {prefix}{code}".strip()


def entity_label(entity: Any, fallback: str = "") -> str:
    if entity is None:
        return f"entity {_short(fallback, 24)}"
    return f'{entity.kind} "{_short(entity.name or entity.location or entity.id, 48)}"'


class AuditView:
    """Labels and activity groups of one page of audit records."""

    def __init__(self, store: Any, names: Names, records: list[Any]) -> None:
        self.store = store
        self.names = names
        self.records = records
        self.payloads = {r.seq: _payload(r) for r in records}
        self.after = self._lookahead()
        for record in [*records, *self.after]:
            kind = {"lineage.entity": "entity", "lineage.activity": "activity"}.get(record.action)
            if kind or record.action == "lineage.agent":
                self.names.remember(kind or "agent", _payload(record))

    def _lookahead(self) -> list[Any]:
        if not self.records:
            return []
        newest = max(r.seq for r in self.records)
        try:
            return list(self.store.records(offset=newest, limit=LOOKAHEAD))
        except Exception:  # noqa: BLE001 - grouping is a help: without it records still show
            return []

    def entity(self, key: str) -> str:
        return entity_label(self.names.get(self.store, "entity", key), key)

    def activity(self, key: str) -> str:
        return activity_label(self.names.get(self.store, "activity", key))

    def agent(self, key: str) -> str:
        agent = self.names.get(self.store, "agent", key)
        return f'{agent.kind} "{_short(agent.name or agent.id, 40)}"' if agent else "an agent"

    def describe(self) -> dict[str, Any]:
        """``records`` with ``label`` and ``group``, and ``groups`` by key."""
        keys = self._group_keys()
        out, groups = [], {}
        for record in self.records:
            item = record.to_dict()
            item["label"] = _short(self.label(record), MAX_LABEL)
            item["group"] = keys.get(record.seq, "")
            if item["group"] and item["group"] not in groups:
                groups[item["group"]] = self.group(item["group"])
            out.append(item)
        return {"records": out, "groups": groups}

    def group(self, key: str) -> dict[str, Any]:
        activity = self.names.get(self.store, "activity", key)
        if activity is None:
            return {"label": "report run " + _short(key.split(":", 1)[-1], 12), "kind": "report"}
        return {
            "label": activity_label(activity),
            "kind": activity.kind,
            "notebook": activity.notebook,
            "status": activity.status,
            "started": activity.started,
        }

    def _group_keys(self) -> dict[int, str]:
        """The activity each record belongs to (seq -> key), where the log says it."""
        keys: dict[int, str] = {}
        ordered = sorted([*self.records, *self.after], key=lambda r: r.seq)
        pending: dict[str, list[int]] = {}
        for record in ordered:
            payload = _payload(record)
            key = _own_key(record, payload)
            if record.action in _NODES:
                pending.setdefault(f"{_NODES[record.action]}:{record.object_id}", []).append(
                    record.seq
                )
            for mention in _mentions(record, payload):
                for seq in pending.pop(mention, []):
                    keys[seq] = key
            if key:
                keys[record.seq] = key
        return keys

    def label(self, record: Any) -> str:
        return _label(self, record, self.payloads.get(record.seq, {}))


def _payload(record: Any) -> dict[str, Any]:
    try:
        value = json.loads(record.payload)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _own_key(record: Any, payload: dict[str, Any]) -> str:
    """The activity a record names itself ('' for entities, agents and environments)."""
    if record.action == "lineage.activity":
        return record.object_id
    if record.action in _RELATIONS:
        return str(payload.get("activity_id") or "")
    if (record.object_type == "report" and record.action.startswith("report.")) or (
        record.action == "package.created"
    ):
        return f"report:{record.object_id}"
    if record.action in ("plan.recorded", "plan.deviation") and payload.get("run_id"):
        return f"report:{payload['run_id']}"
    return ""


def _mentions(record: Any, payload: dict[str, Any]) -> list[str]:
    """The entities, agents and environment a relation or activity record names."""
    if record.action == "lineage.activity":
        env = payload.get("environment_id")
        return [f"env:{env}"] if env else []
    if record.action == "lineage.associated":
        return [f"agent:{payload.get('agent_id')}"]
    if record.action in _RELATIONS:
        return [f"entity:{payload.get(k)}" for k in ("entity_id", "source_id") if payload.get(k)]
    return []


def _relation_label(view: AuditView, action: str, p: dict[str, Any]) -> str:
    activity = view.activity(str(p.get("activity_id") or ""))
    entity = view.entity(str(p.get("entity_id") or ""))
    if action == "lineage.used":
        role = f" ({_short(p['role'], 30)})" if p.get("role") else ""
        return f"{activity} used {entity}{role}"
    if action == "lineage.generated":
        return f"{activity} generated {entity}"
    if action == "lineage.derived":
        return f"{entity} derived from {view.entity(str(p.get('source_id') or ''))}"
    return f"{view.agent(str(p.get('agent_id') or ''))} ran {activity}"


def _label(view: AuditView, record: Any, p: dict[str, Any]) -> str:
    """What one record says, in names (its raw ids stay in the record)."""
    action, oid = record.action, record.object_id
    if action == "lineage.entity":
        return f"{entity_label(view.names.get(view.store, 'entity', oid), oid)} recorded"
    if action == "lineage.activity":
        where = f" in {_short(p.get('notebook', ''), 60)}" if p.get("notebook") else ""
        return f"{view.activity(oid)} ran{where} ({p.get('status') or 'no status'})"
    if action == "lineage.agent":
        return f"{view.agent(oid)} recorded"
    if action == "lineage.environment":
        return f"environment {_short(oid.split(':', 1)[-1], 12)} recorded"
    if action in _RELATIONS:
        return _relation_label(view, action, p)
    if record.object_type == "report" or action == "package.created":
        template = p.get("template") or ""
        what = f'report "{_short(template, 40)}"' if template else "report run"
        return f"{what} {action.split('.', 1)[-1].replace('_', ' ')}"
    if action.startswith("plan."):
        return f'plan "{_short(oid, 48)}" {action.split(".", 1)[-1]}'
    return f"{record.object_type} {_short(oid, 48)}"
