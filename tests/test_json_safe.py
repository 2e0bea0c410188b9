"""The one JSON sanitiser: one behaviour for every result, record and fingerprint."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rfc8785

from cmlops.errors import InvalidInputError
from cmlops.json_safe import json_safe, qualified_name


def _strict_json(value: object) -> object:
    """What a strict JSON reader gets back (no NaN, no foreign types, canonicalisable)."""
    text = json.dumps(value, allow_nan=False)
    rfc8785.dumps(value)
    return json.loads(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (float("nan"), None),
        (float("inf"), None),
        (-np.inf, None),
        (np.float32(1.5), 1.5),
        (np.float64("nan"), None),
        (np.int64(2**40), 2**40),
        (np.uint8(7), 7),
        (np.bool_(True), True),
        (True, True),
        (np.str_("a"), "a"),
        (None, None),
        (pd.NA, None),
        (pd.NaT, None),
        (np.datetime64("NaT"), None),
        (Decimal("0.1"), "0.1"),
        (b"\x00\xff", "00ff"),
        (Path("/data/x.csv"), "/data/x.csv"),
    ],
)
def test_scalars(value: object, expected: object) -> None:
    out = json_safe(value)
    assert out == expected and type(out) is type(expected)
    _strict_json(out)


def test_dates_and_times_are_iso_8601_text_everywhere() -> None:
    aware = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
    assert json_safe(aware) == "2024-03-01T12:00:00+00:00"
    assert json_safe(dt.date(2024, 3, 1)) == "2024-03-01"
    assert json_safe(dt.time(7, 30)) == "07:30:00"
    assert json_safe(pd.Timestamp("2024-03-01 12:00:00.000000001")) == (
        "2024-03-01T12:00:00.000000001"
    )
    # a NumPy datetime keeps its nanoseconds and is the same text as the pandas one
    ns = np.datetime64("2024-03-01T12:00:00.000000001")
    assert json_safe(ns) == json_safe(pd.Timestamp(ns))
    # outside the nanosecond range: still ISO text, never an integer
    assert json_safe(np.datetime64("3000-01-01", "D")) == "3000-01-01T00:00:00"
    assert json_safe(dt.timedelta(minutes=1, seconds=30)) == "P0DT0H1M30S"
    assert json_safe(np.timedelta64(90, "s")) == "P0DT0H1M30S"
    assert json_safe(pd.Timedelta(seconds=90)) == "P0DT0H1M30S"


def test_datetime_arrays_stay_dates_not_nanosecond_integers() -> None:
    stamps = np.array(["2024-01-01", "NaT", "2024-01-03"], dtype="datetime64[ns]")
    assert json_safe(stamps) == ["2024-01-01T00:00:00", None, "2024-01-03T00:00:00"]
    series = pd.Series(pd.to_datetime(["2024-01-01", None]))
    assert json_safe(series) == ["2024-01-01T00:00:00", None]


def test_long_arrays_are_whole_never_a_truncated_repr() -> None:
    long = np.arange(10_000, dtype=float)
    other = long.copy()
    other[5_000] = -1.0
    assert json_safe(long) == long.tolist()
    assert json_safe(long) != json_safe(other)
    grid = np.array([[1.0, np.nan], [np.inf, 4.0]])
    assert json_safe(grid) == [[1.0, None], [None, 4.0]]
    assert json_safe(np.array(3.5)) == 3.5


def test_containers() -> None:
    out = json_safe({1: (np.int8(1), [np.float16(0.5)]), "s": {3, 1, 2}, None: frozenset()})
    assert out == {"1": [1, [0.5]], "s": [1, 2, 3], "None": []}
    # a set's array does not depend on insertion order or on hash seeds
    assert json_safe({"b", "a", "c"}) == ["a", "b", "c"] == json_safe({"c", "a", "b"})
    assert json_safe(pd.Index(["x", "y"])) == ["x", "y"]
    frame = pd.DataFrame({"a": [1, None], "t": pd.to_datetime(["2024-01-01", None])})
    assert json_safe(frame) == {
        "columns": ["a", "t"],
        "index": [0, 1],
        "data": [[1.0, "2024-01-01T00:00:00"], [None, None]],
    }
    _strict_json(json_safe(frame))


class Colour(enum.Enum):
    RED = "red"


class Opaque:
    pass


def _helper() -> None:
    pass


def test_code_and_opaque_objects_are_named_never_an_address() -> None:
    assert json_safe(Colour.RED) == "red"
    assert json_safe(_helper) == f"{__name__}._helper"
    assert json_safe(Opaque) == f"{__name__}.Opaque"
    assert json_safe(Opaque()) == f"{__name__}.Opaque"
    assert "0x" not in json_safe(functools.partial(_helper))
    assert qualified_name(Opaque()) == qualified_name(Opaque)


def test_default_is_used_for_what_the_rules_do_not_cover() -> None:
    class Custom:
        def __repr__(self) -> str:
            return "Custom()"

    assert json_safe(Custom()) == "Custom()"
    assert json_safe([Custom()], default=lambda v: {"custom": 1}) == [{"custom": 1}]


def test_a_cycle_is_a_one_line_error() -> None:
    loop: dict = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(InvalidInputError, match="contains itself") as info:
        json_safe(loop)
    assert "\n" not in str(info.value)
    shared = [1]
    assert json_safe({"x": shared, "y": shared}) == {"x": [1], "y": [1]}  # shared is no cycle


def test_estimator_params_in_fingerprints_name_nested_estimators() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from cmlops.estimators import estimator_params
    from cmlops.fingerprinting import fingerprint

    pipe = Pipeline([("model", LogisticRegression(C=2.0))])
    params = estimator_params(pipe)
    assert params["steps"] == [["model", "sklearn.linear_model._logistic.LogisticRegression"]]
    _strict_json(params)
    # a long array parameter is hashed whole: two estimators that differ deep inside differ
    a = LogisticRegression(class_weight={i: 1.0 for i in range(200)})
    b = LogisticRegression(class_weight={**{i: 1.0 for i in range(200)}, 150: 2.0})
    assert fingerprint(a) != fingerprint(b)
    long = np.zeros(500)
    changed = long.copy()
    changed[250] = 1.0
    from sklearn.preprocessing import FunctionTransformer

    assert fingerprint(FunctionTransformer(kw_args={"w": long})) != fingerprint(
        FunctionTransformer(kw_args={"w": changed})
    )
