"""scikit-learn style estimators: how cmlops recognises one, and where its fitted state is.

Duck-typed (``get_params`` and ``fit``), so any library that follows the
scikit-learn API is tracked and fingerprinted without being imported here.
"""

from __future__ import annotations

from typing import Any

from cmlops.json_safe import json_safe, qualified_name


def is_estimator(obj: Any) -> bool:
    """True for objects with the scikit-learn estimator API (get_params, fit)."""
    return (
        not isinstance(obj, type)
        and callable(getattr(obj, "get_params", None))
        and callable(getattr(obj, "fit", None))
    )


def fitted_state(obj: Any) -> dict[str, Any]:
    """The fitted attributes of an estimator (public names ending in ``_``)."""
    state: dict[str, Any] = {}
    for name in sorted(vars(obj)):
        if name.endswith("_") and not name.startswith("_") and not name.endswith("__"):
            state[name] = vars(obj)[name]
    return state


def nested_estimators(obj: Any) -> list[tuple[str, Any]]:
    """Parameters of a meta-estimator that hold estimators (a Pipeline's ``steps`` ...).

    A Pipeline fits its steps in place and keeps no fitted attribute of its own, so
    its fitted state lives in these parameters: without them two different fits of
    one Pipeline would look identical.
    """
    out = []
    for name, value in sorted(obj.get_params(deep=False).items()):
        if is_estimator(value) or (
            isinstance(value, list | tuple)
            and any(
                is_estimator(v) or (isinstance(v, tuple) and any(is_estimator(x) for x in v))
                for v in value
            )
        ):
            out.append((name, value))
    return out


def is_fitted(obj: Any) -> bool:
    """A fitted estimator: scikit-learn's own test when it has one, else fitted attributes."""
    if not is_estimator(obj):
        return False
    own_test = getattr(obj, "__sklearn_is_fitted__", None)
    if callable(own_test):
        try:
            return bool(own_test())
        except Exception:  # noqa: BLE001 - a broken check means "cannot tell": not fitted
            return False
    return bool(fitted_state(obj))


def estimator_params(est: Any) -> dict[str, Any]:
    """An estimator's own parameters as JSON; a nested estimator is named by its class.

    (Its fitted state is hashed separately, so naming it here loses nothing.)
    """
    return json_safe(
        est.get_params(deep=False),
        default=lambda value: qualified_name(value) if is_estimator(value) else str(value),
    )
