"""The Python API of capture: ``track``, ``log_dataset``, ``log_model``, ``lineage``.

For scripts and pipelines that are not notebooks, and for explicit logging in
notebooks. The active tracked block is held in a ``contextvars`` variable (no
module-level "active run"): ``log_dataset`` inside ``with track(...)`` attaches
to that block, outside it records its own small activity.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cmlops.capture.errors import TrackingError
from cmlops.capture.recorder import CellRecorder
from cmlops.capture.session import CaptureSession, shell_session
from cmlops.errors import InvalidInputError
from cmlops.store import Entity, LineageGraph

_active: contextvars.ContextVar[CellRecorder | None] = contextvars.ContextVar(
    "cmlops_active_track", default=None
)


def _session_for(store: Any = None) -> CaptureSession:
    """The kernel's capture session when the extension is loaded, else a new one."""
    if store is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is not None:
            session = shell_session(shell)
            if session is not None:
                return session
    return CaptureSession(store_factory=(lambda: store) if store is not None else None)


@contextmanager
def track(
    name: str = "",
    *,
    reason: str = "",
    tags: dict[str, str] | None = None,
    strict: bool = False,
    store: Any = None,
    namespace: dict[str, Any] | None = None,
) -> Iterator[CellRecorder]:
    """Record the block as one activity: files read/written, variables created.

    ``namespace`` defaults to the caller's globals; variables new or re-bound
    in it during the block become generated entities. With ``strict=True`` the
    store is checked before the block runs and a failure to record raises.
    Exceptions from the block propagate unchanged (the activity is recorded
    with status ``error``).
    """
    frame = sys._getframe(2)  # the frame that wrote ``with track()`` (past contextmanager)
    if namespace is None:
        namespace = frame.f_globals
    session = _session_for(store)
    code = f"# cmlops.track block at {frame.f_code.co_filename}:{frame.f_lineno}"
    recorder = CellRecorder(
        session,
        code,
        name=name,
        reason=reason,
        tags=tags,
        strict=strict,
        namespace=namespace,
        kind="block",
    )
    recorder.start()
    token = _active.set(recorder)
    try:
        yield recorder
    except BaseException as exc:
        _active.reset(token)
        try:
            recorder.finish(exc)
        except TrackingError:
            pass  # the user's own exception wins over a failure to record it
        raise
    _active.reset(token)
    recorder.finish(None)


def _log(
    obj: Any, name: str, role: str, reason: str, kind: str, session: Any, store: Any
) -> Entity:
    if role not in {"input", "output"}:
        raise InvalidInputError(f"role must be 'input' or 'output', got {role!r}")
    recorder = _active.get()
    if recorder is not None:
        entity = recorder.log(name, obj, role)
    else:
        session = session or _session_for(store)
        recorder = CellRecorder(
            session,
            f"# cmlops.{kind}({name!r}, role={role!r})",
            name=name,
            reason=reason,
            namespace={},
            kind=kind,
            strict=True,  # an explicit log that cannot be written must say so
            io_hooks=False,
        )
        recorder.start()
        entity = recorder.log(name, obj, role)
        if entity is not None:
            recorder.finish(None)
    if entity is None:
        raise InvalidInputError(
            f"cannot log {name!r}: "
            + (recorder.notes[-1] if recorder.notes else f"a {type(obj).__name__} is not tracked")
        )
    return entity


def log_dataset(
    obj: Any,
    name: str = "",
    *,
    role: str = "input",
    reason: str = "",
    store: Any = None,
    _session: Any = None,
) -> Entity:
    """Record a DataFrame, Series or array as a dataset used (input) or produced (output)."""
    return _log(obj, name or "dataset", role, reason, "log_dataset", _session, store)


def log_model(
    model: Any, name: str = "", *, role: str = "output", reason: str = "", store: Any = None
) -> Entity:
    """Record a fitted scikit-learn style model: class, hyper-parameters, fitted state."""
    from cmlops.estimators import is_fitted

    if not is_fitted(model):
        raise InvalidInputError(
            f"{type(model).__name__} is not a fitted estimator: call fit() before log_model"
        )
    return _log(model, name or type(model).__name__, role, reason, "log_model", None, store)


def record_alerts(result: Any, store: Any = None, *, claimed_actor: str | None = None) -> int:
    """Record each alert of a ``cmlops.monitor()`` result once; returns how many were new.

    ``store`` defaults to this kernel's capture store. Calling it again, or
    tracking the cell that made the result, records no alert twice (the one
    ``monitor.alert`` shape is :mod:`cmlops.capture.alerts`'). The actor is the
    store's authenticated one; ``claimed_actor`` is recorded only as a claim.
    """
    from cmlops.capture.alerts import alert_events, write_alert_events
    from cmlops.capture.namespace import result_content
    from cmlops.fingerprinting import FingerprintOptions

    if getattr(type(result), "_cmlops_result_kind", None) != "monitor":
        raise InvalidInputError(
            f"record_alerts takes the result of cmlops.monitor(), got a {type(result).__name__}"
        )
    if store is None:
        store = _session_for(None).store
    content, entity_id = result_content(result, FingerprintOptions.from_env())
    events = alert_events(entity_id, content)
    return len(write_alert_events(store, events, claimed_actor=claimed_actor))


def lineage(entity: Any = None, *, notebook: str | None = None, store: Any = None) -> LineageGraph:
    """The lineage graph of an entity (ancestors and descendants), a notebook, or all.

    ``entity`` is an entity id (a fingerprint) or an object that is fingerprinted
    to find it. Returns a :class:`cmlops.LineageGraph` (entities, activities,
    agents and the PROV relations between them).
    """
    if store is None:
        session = _session_for(None)
        session.flush()
        store = session.store
    if notebook is not None:
        return store.notebook_lineage(notebook)
    if entity is None:
        return store.lineage_graph()
    if not isinstance(entity, str):
        from cmlops.fingerprinting import fingerprint

        entity = fingerprint(entity)
    if store.get_entity(entity) is None:
        raise InvalidInputError(f"no entity {entity!r} in the store: was it recorded?")
    graph = store.ancestors(entity)
    graph.merge(store.descendants(entity))
    return graph
