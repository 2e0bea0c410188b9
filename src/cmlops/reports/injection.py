"""Proof that report parameters reach the kernel as data, never as code.

Papermill injects parameters by writing a code cell of Python assignments
(``name = <literal>``). Before any kernel starts, the runner asks Papermill's
own translator for that exact cell, parses it with :mod:`ast`, and insists that
it contains nothing but assignments of literals to the declared names, and that
every literal evaluates back to the very value given (byte-identical strings).
If Papermill ever escaped a string wrongly, the run would stop here instead of
executing attacker-controlled code.
"""

from __future__ import annotations

import ast
from typing import Any

from cmlops.reports.errors import ParameterError
from cmlops.reports.parameters import check_name


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        # papermill writes tuples as lists; ints stay ints, floats stay floats
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def injected_source(parameters: dict[str, Any]) -> str:
    """The code Papermill will inject, after checking it assigns only the given literals."""
    from papermill.translators import translate_parameters

    for name in parameters:
        check_name(name)
    source = translate_parameters("python3", "python", parameters, "Parameters")
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"parameters cannot be injected safely: {exc.msg}") from None
    assigned: dict[str, Any] = {}
    for node in tree.body:
        if not (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            raise ParameterError("parameters cannot be injected safely: unexpected statement")
        name = node.targets[0].id
        try:
            assigned[name] = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(
                f"parameter {name!r} cannot be injected safely: its value is not a literal"
            ) from None
    if assigned.keys() != parameters.keys():
        raise ParameterError("parameters cannot be injected safely: names do not round-trip")
    for name, value in parameters.items():
        if not _same(assigned[name], value):
            raise ParameterError(
                f"parameter {name!r} cannot be injected safely: its value does not round-trip"
            )
    return source
