"""The Python API of the registry: the CLI's verbs as functions (store optional)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from cmlops.lifecycle import approval, registry, validation
from cmlops.lifecycle.registry import ModelState, VersionState

T = TypeVar("T")


@contextmanager
def _store(store: Any) -> Iterator[Any]:
    if store is not None:
        yield store
        return
    from cmlops.store import open_store

    with open_store() as opened:
        yield opened


def _with(store: Any, call: Callable[[Any], T]) -> T:
    with _store(store) as opened:
        return call(opened)


def register_model(
    name: str,
    model: Any,
    *,
    description: str = "",
    protocol: str | Path | None = None,
    reason: str = "",
    store: Any = None,
) -> VersionState:
    """Register a fitted model (or a model entity id) as the next version of ``name``."""
    return _with(
        store,
        lambda s: registry.register_version(
            s, name, model, description=description, protocol=protocol, reason=reason
        ),
    )


def record_change_protocol(
    name: str, path: str | Path, *, reason: str = "", store: Any = None
) -> dict[str, Any]:
    """Record (or revise, with a reason) the change protocol of ``name``."""
    return _with(store, lambda s: registry.record_protocol(s, name, path, reason=reason))


def model_state(name: str, *, store: Any = None) -> ModelState:
    """A registered model, its versions and history, replayed from the audit chain."""
    return _with(store, lambda s: registry.model_state(s, name))


def list_models(*, store: Any = None) -> list[ModelState]:
    return _with(store, registry.list_models)


def validate_model_version(
    name: str, version: int, package: str | Path, *, reason: str = "", store: Any = None
) -> VersionState:
    return _with(
        store, lambda s: validation.validate_version(s, name, version, package, reason=reason)
    )


def approve_model_version(
    name: str, version: int, package: str | Path, *, reason: str = "", store: Any = None
) -> VersionState:
    return _with(
        store, lambda s: approval.approve_version(s, name, version, package, reason=reason)
    )


def retire_model_version(
    name: str, version: int, *, reason: str, store: Any = None
) -> VersionState:
    return _with(store, lambda s: registry.retire_version(s, name, version, reason=reason))
