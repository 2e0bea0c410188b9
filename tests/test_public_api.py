"""``cmlops.__all__`` is complete: every error a user may catch, every result and row type,
and every type a public function returns is importable from ``cmlops`` itself.

The package is walked module by module, so a new error class or result kind that is
not exported fails here, with its name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing

import pandas as pd

import cmlops
from cmlops.errors import CmlopsError
from cmlops.stats.result import Record, Result

#: errors that never reach a Python caller, with the reason
NOT_EXPORTED = {
    # click prints it and exits with the code; the API raises the CmlopsError it wraps
    "cmlops.cli.conventions.CmlopsCommandError": "CLI exit codes",
}
#: the REST API turns errors defined here into HTTP responses inside the Jupyter server
SERVER_ONLY = "cmlops.server."


def _modules() -> list[typing.Any]:
    found = []
    for info in pkgutil.walk_packages(cmlops.__path__, "cmlops."):
        if "labextension" not in info.name:
            found.append(importlib.import_module(info.name))
    return found


def _classes() -> dict[str, type]:
    out = {}
    for module in _modules():
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__:
                out[f"{module.__name__}.{name}"] = obj
    return out


def _exported() -> set[typing.Any]:
    return {getattr(cmlops, name) for name in cmlops.__all__}


def _cmlops_types(annotation: typing.Any, out: set[type]) -> None:
    if isinstance(annotation, type):
        if annotation.__module__.startswith("cmlops."):
            out.add(annotation)
        return
    for arg in typing.get_args(annotation):
        _cmlops_types(arg, out)


def test_every_error_a_user_can_catch_is_exported():
    missing = [
        path
        for path, cls in _classes().items()
        if issubclass(cls, BaseException) and path not in NOT_EXPORTED
        if not path.startswith(SERVER_ONLY) and cls not in _exported()
    ]
    assert not missing, f"add to cmlops/__init__.py::_PUBLIC: {missing}"
    for path in NOT_EXPORTED:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), f"stale exemption {path}"


def test_every_result_and_row_type_is_exported():
    missing = [
        path
        for path, cls in _classes().items()
        if issubclass(cls, (Result, Record)) and cls not in (Result, Record)
        if cls not in _exported()
    ]
    assert not missing, f"add to cmlops/__init__.py::_PUBLIC: {missing}"


def test_every_type_a_public_function_returns_is_exported():
    returned: set[type] = set()
    for name in cmlops.__all__:
        obj = getattr(cmlops, name)
        if inspect.isfunction(obj):
            module = sys_module(obj)
            hints = typing.get_type_hints(obj, {**vars(module), "pd": pd})
            _cmlops_types(hints.get("return"), returned)
    missing = sorted(f"{c.__module__}.{c.__name__}" for c in returned if c not in _exported())
    assert not missing, f"add to cmlops/__init__.py::_PUBLIC: {missing}"


def sys_module(obj: typing.Any) -> typing.Any:
    return importlib.import_module(obj.__module__)


def test_all_is_sorted_unique_and_lists_only_real_names():
    assert cmlops.__all__ == sorted(set(cmlops.__all__))
    for name in cmlops.__all__:
        obj = getattr(cmlops, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, CmlopsError), f"{name} is not a CmlopsError"
