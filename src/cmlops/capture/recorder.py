"""One tracked execution: collect what it used and generated, write one batch.

A :class:`CellRecorder` covers one cell (or one ``cmlops.track`` block) of a
:class:`cmlops.capture.session.CaptureSession`: ``start`` before the code
runs, ``finish`` after, which writes *one* ``LineageBatch`` (one transaction)
with the cell's relations (:mod:`cmlops.capture.cell_relations`).

Never break the notebook: every failure to record is turned into one warning
per session, unless the execution is strict, where the store is checked
*before* the code runs and a failure to record raises :class:`TrackingError`.
"""

from __future__ import annotations

import hashlib
import sys
import uuid
from typing import Any

from cmlops._version import __version__
from cmlops.capture.alerts import alert_events, write_alert_events
from cmlops.capture.cell_relations import CellRelations, file_entity
from cmlops.capture.environment import environment_snapshot, kernel_session, notebook_path
from cmlops.capture.errors import TrackingError
from cmlops.capture.hooks import Hooks, IOLog
from cmlops.capture.namespace import describe, referenced_names
from cmlops.capture.session import CaptureSession
from cmlops.errors import StoreReplacedError
from cmlops.store.model import (
    Activity,
    Agent,
    Associated,
    AuditEvent,
    Entity,
    LineageBatch,
)


class CellRecorder:
    """Records one execution of ``code`` in ``namespace``."""

    def __init__(
        self,
        session: CaptureSession,
        code: str,
        *,
        name: str = "",
        reason: str = "",
        tags: dict[str, str] | None = None,
        strict: bool = False,
        namespace: dict[str, Any] | None = None,
        kind: str = "cell",
        trust_cache: bool = False,
        io_hooks: bool = True,
    ) -> None:
        self.session = session
        self.code = code
        self.name = name
        self.reason = reason
        self.tags = tags or {}
        self.strict = strict
        self.kind = kind
        self.trust_cache = trust_cache
        self.io_hooks = io_hooks
        shell = session.shell
        self.ns = namespace if namespace is not None else getattr(shell, "user_ns", {})
        self.activity_id = f"activity:{uuid.uuid4()}"
        self.notes: list[str] = []
        self.io = IOLog(cache=session.digests)
        self.hooks = Hooks(self.io)
        self.logged: list[tuple[Entity, str]] = []  # (entity, "input"|"output") from log_* calls
        self.started = ""
        self.execution_count: int | None = None
        self._snapshot: Any = None
        self._names: set[str] = set()

    # -- lifecycle
    def start(self) -> None:
        self.session.flush()  # the previous cell's fingerprints first: same namespace state
        if self.strict:
            self.session.check_writable()
        self.started = self.session.clock().isoformat()
        self.execution_count = getattr(self.session.shell, "execution_count", None)
        try:
            source = self.code
            shell = self.session.shell
            if shell is not None and hasattr(shell, "transform_cell"):
                source = shell.transform_cell(source)
            self._names = referenced_names(source)
            self._snapshot = self.session.tracker.before(
                self.ns, self._names, self.notes, self.trust_cache
            )
        except Exception as exc:  # noqa: BLE001 - tracking never stops the cell
            self._fail(exc, before=True)
        if self.io_hooks:
            self.hooks.install()

    def log(self, name: str, obj: Any, role: str) -> Entity | None:
        """Attach an object explicitly (``log_dataset`` / ``log_model``)."""
        observed = describe(name, obj, self.session.options, self.notes)
        if observed is None:
            return None
        self.logged.append((observed.entity, role))
        return observed.entity

    def finish(self, error: BaseException | None = None) -> list[Any]:
        """Restore the hooks and record; returns the audit records written (now).

        In a kernel (``session.background``) the fingerprinting of what the
        cell produced and the store write run on the writer thread after the
        cell's reply: the scientist sees the output at once, and the next cell
        (``pre_run_cell``) waits for them, so no code can change a variable
        before it is fingerprinted. Strict executions record before returning.
        """
        self.hooks.restore()
        ended = self.session.clock().isoformat()
        try:
            store = self.session.live_store(self.strict)  # a broken store warns in this cell
            self.session.last_activity = self.activity_id
            self.session.activities += 1
            if self.session.background and not self.strict:
                # the names as the cell left them (one atomic dict copy): code that runs
                # between cells (widget callbacks) cannot re-bind them under the build
                self.ns = dict(self.ns)
                self.session.writer.submit(lambda: self._write(store, *self._build(error, ended)))
                return []
            return self._write(store, *self._build(error, ended))
        except Exception as exc:  # noqa: BLE001 - turned into a warning or TrackingError
            self._fail(exc, before=False)
            return []

    def _write(self, store: Any, batch: LineageBatch, alerts: list[AuditEvent]) -> list:
        try:
            return self._write_to(store, batch, alerts)
        except StoreReplacedError as exc:
            if self.strict:
                raise
            store = self.session.reopen_after(exc)
            return self._write_to(store, batch, alerts)

    def _write_to(self, store: Any, batch: LineageBatch, alerts: list[AuditEvent]) -> list:
        records = self.session.write_pending(store)  # the session's own facts come first
        records += store.record_lineage(batch)
        return records + write_alert_events(store, alerts)

    def _fail(self, exc: Exception, before: bool) -> None:
        message = f"could not record the {self.kind} ({type(exc).__name__}: {exc})"
        if self.strict:
            self.hooks.restore()
            raise TrackingError(f"strict tracking: {message}") from exc
        self.session.warn_once(message)

    # -- building the batch
    def _build(
        self, error: BaseException | None, ended: str
    ) -> tuple[LineageBatch, list[AuditEvent]]:
        """The cell's lineage batch (one transaction) and its monitor alerts."""
        relations = self._relations()
        env_id, env = environment_snapshot()
        store = self.session.store
        person = Agent(
            id=f"person:{store.actor}",
            kind="person",
            name=store.actor,
            attributes={"actor_source": getattr(store, "actor_source", "")},
        )
        software = Agent(
            id=f"software:cmlops/{__version__}",
            kind="software",
            name="cmlops",
            attributes={"version": __version__, "python": sys.version.split()[0]},
        )
        activity = self._activity(error, ended, env_id)
        alerts = [
            event
            for entity in relations.entities.values()
            if entity.kind == "result" and entity.attributes.get("result_kind") == "monitor"
            for event in alert_events(entity.id, entity.attributes.get("result") or {})
        ]
        batch = LineageBatch(
            entities=list(relations.entities.values()),
            activities=[activity],
            agents=[person, software],
            environments={env_id: env},
            used=relations.used,
            generated=relations.generated,
            derived=relations.derived,
            associated=[
                Associated(activity.id, person.id, "operator"),
                Associated(activity.id, software.id, "tool"),
            ],
            reason=self.reason,
        )
        return batch, alerts

    def _relations(self) -> CellRelations:
        """What the cell used and generated: files, variables and explicitly logged objects."""
        self.io.finish()
        relations = CellRelations(self.activity_id)
        for event in self.io.events:
            if event.digest:
                relations.add(file_entity(event), event.role == "input", "input", "output")
        if self._snapshot is not None:
            used_vars, generated_vars = self.session.tracker.after(
                self.ns, self._names, self._snapshot, self.notes
            )
            for observed in used_vars:
                relations.add(observed.entity, True, f"variable:{observed.name}")
            for observed in generated_vars:
                relations.add(observed.entity, False, f"variable:{observed.name}")
        for entity, role in self.logged:
            relations.add(entity, role == "input", "logged")
        return relations.close()

    def _activity(self, error: BaseException | None, ended: str, env_id: str) -> Activity:
        """The activity record of this execution: code, notebook, session, times, status."""
        session = self.session
        code_hash = "sha256:" + hashlib.sha256(self.code.encode("utf-8", "replace")).hexdigest()
        attributes: dict[str, Any] = {"tags": self.tags, "notes": self.notes + self.io.notes}
        if self.reason:
            attributes["reason"] = self.reason
        if session.shell is not None:
            attributes["execution_count"] = self.execution_count
        return Activity(
            id=self.activity_id,
            kind=self.kind,
            name=self.name,
            code=self.code,
            code_hash=code_hash,
            notebook=notebook_path(self.ns),
            session=kernel_session(session.shell),
            started=self.started,
            ended=ended,
            status="ok" if error is None else "error",
            error="" if error is None else f"{type(error).__name__}: {error}".splitlines()[0],
            environment_id=env_id,
            attributes=attributes,
        )


__all__ = ["CellRecorder"]
