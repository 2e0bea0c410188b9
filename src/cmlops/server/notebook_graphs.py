"""Notebook lineage kept up to date from the tail of the audit log.

Rebuilding a notebook's graph from the lineage tables costs time proportional
to the notebook's history (hundreds of ms at 10,000 records), yet after a
tracked cell only a handful of records are new. Every lineage row keeps the
seq of the audit record that put it there, so the graph of a notebook is built
once and then extended with the store's ``lineage_after(seq)`` query — the
rows recorded since the last head seen — never by decoding record payloads.
A store whose head went backwards (replaced) or a tail too long is rebuilt
from scratch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

#: A tail longer than this is not replayed: the graph is rebuilt instead.
MAX_TAIL = 2000


_RELATIONS = ("used", "generated", "derived", "associated")


@dataclass
class _State:
    graph: Any
    seq: int
    head_hash: str


class NotebookGraphs:
    """Per-notebook lineage graphs, each extended from the audit log tail."""

    def __init__(self, max_notebooks: int = 8) -> None:
        self.max_notebooks = max_notebooks
        self._states: dict[tuple[str, ...], _State] = {}
        self._lock = threading.Lock()

    def graph(self, store: Any, paths: tuple[str, ...]) -> tuple[Any, Any]:
        """The lineage graph of the activities recorded under any of ``paths``, and the head."""
        head = store.head()
        seq = head.seq if head else 0
        with self._lock:
            state = self._states.get(paths)
            if state is not None and not self._current(store, state, seq):
                state = None
            if state is None:
                state = self._build(store, paths, head)
            elif state.seq < seq:
                self._extend(store, state, paths, seq)
                state.head_hash = head.hash
            self._states.pop(paths, None)
            self._states[paths] = state
            while len(self._states) > self.max_notebooks:
                self._states.pop(next(iter(self._states)))
            return state.graph, head

    @staticmethod
    def _current(store: Any, state: _State, seq: int) -> bool:
        if seq < state.seq or seq - state.seq > MAX_TAIL:
            return False
        if state.seq == 0:
            return True
        # The record we stopped at must still be the same one (store not replaced).
        near = store.records(after_seq=state.seq - 1, limit=1)
        return bool(near) and near[0].seq == state.seq and near[0].hash == state.head_hash

    @staticmethod
    def _build(store: Any, paths: tuple[str, ...], head: Any) -> _State:
        graph = store.notebook_lineage(paths[0])
        for path in paths[1:]:
            graph.merge(store.notebook_lineage(path))
        return _State(graph, head.seq if head else 0, head.hash if head else "")

    @staticmethod
    def _extend(store: Any, state: _State, paths: tuple[str, ...], seq: int) -> None:
        graph = state.graph
        delta = store.lineage_after(state.seq, seq)
        for activity in delta.activities.values():
            if activity.notebook in paths:
                graph.activities[activity.id] = activity
        seen = {name: set(getattr(graph, name)) for name in _RELATIONS}

        def entity(entity_id: str) -> bool:
            if entity_id not in graph.entities:
                found = delta.entities.get(entity_id) or store.get_entity(entity_id)
                if found is None:
                    return False
                graph.entities[entity_id] = found
            return True

        def agent(agent_id: str) -> None:
            if agent_id not in graph.agents:
                found = delta.agents.get(agent_id) or store.get_agent(agent_id)
                if found is not None:
                    graph.agents[agent_id] = found

        for kind in _RELATIONS:
            for edge in getattr(delta, kind):
                if kind == "derived":
                    ok = edge.entity_id in graph.entities and entity(edge.source_id)
                elif kind == "associated":
                    ok = edge.activity_id in graph.activities
                    if ok:
                        agent(edge.agent_id)
                else:
                    ok = edge.activity_id in graph.activities and entity(edge.entity_id)
                if ok and edge not in seen[kind]:
                    seen[kind].add(edge)
                    getattr(graph, kind).append(edge)
        state.seq = seq
