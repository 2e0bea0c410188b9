"""The result protocol on every result class: exact round trip, format version, verdicts, repr.

Results come from the real statistics functions on data with hostile strings, NaN,
infinities and timestamps, and from hand-made objects holding numpy scalars, NaN,
tuples and timestamps; each must come back from ``from_dict`` equal to itself, also
after a JSON round trip, and ``to_dict`` must be plain JSON (RFC 8785 accepts it).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pytest
import rfc8785

import cmlops
from cmlops.errors import InvalidInputError, ResultFormatError
from cmlops.stats.comparison import ComparisonResult, ComparisonRow, compare
from cmlops.stats.drift import ColumnDrift, DriftResult, drift
from cmlops.stats.evaluation import EvaluationResult, MetricRow, evaluate
from cmlops.stats.independence import independence
from cmlops.stats.monitoring import Alert, MonitorResult, Trigger, monitor
from cmlops.stats.result import FORMAT_VERSION, KINDS, MAX_REPR, VERDICTS, Result
from cmlops.stats.validation import ValidationResult, infer_schema, validate
from cmlops.stats.validation_result import CheckResult

HOSTILE = [
    "</script><img src=x onerror=alert(1)>",
    "quote \" and ' and \\ backslash",
    "line\nbreak\r\tand\x00nul",
    "\u202eevil-rtl \U0001f600 ✓ Ω",
    "x" * 500,
]


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(21)
    n = 300
    ref = pd.DataFrame(
        {
            HOSTILE[0]: rng.normal(0, 1, n),
            HOSTILE[1]: rng.choice(HOSTILE, n),
            HOSTILE[2]: rng.normal(5, 2, n),
            "when": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
            "site": rng.choice(["A", "B"], n),
        }
    )
    cur = ref.copy()
    cur[HOSTILE[0]] = cur[HOSTILE[0]] + 1.5
    cur.loc[:30, HOSTILE[2]] = np.nan
    cur.loc[31:35, HOSTILE[2]] = np.inf
    cur["when"] = cur["when"] + pd.Timedelta(days=40)
    return ref, cur


def _results(frames) -> dict[str, Result]:
    ref, cur = frames
    rng = np.random.default_rng(5)
    n = 400
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    groups = pd.Series(rng.choice([HOSTILE[0], HOSTILE[3], "M"], n), name=HOSTILE[1])
    bad = ref.copy()
    bad.loc[3, HOSTILE[2]] = np.inf
    bad.loc[4, HOSTILE[1]] = "never seen </b>"
    bad.loc[5, "when"] = pd.Timestamp("1900-01-01", tz="UTC")
    t = pd.date_range("2024-01-01", periods=900, freq="h", tz="UTC")
    x = rng.normal(size=900)
    x[600:] += 1.5
    mon_frame = pd.DataFrame({"t": t, HOSTILE[0]: x, "y": rng.integers(0, 2, 900)})
    mon_frame["p"] = np.clip(0.3 * mon_frame["y"] + rng.uniform(0, 0.7, 900), 0, 1)
    return {
        "drift": drift(ref, cur),
        "drift_stratified": drift(ref, cur, by="site"),
        "evaluation": evaluate(
            y,
            p,
            thresholds=[0.2, 0.5],
            groups=groups,
            criteria={"auroc_ci_low": (">=", 0.6), "calibration_slope": ("between", 0.5, 2)},
        ),
        "validation": validate(bad, infer_schema(ref)),
        "independence": independence(
            ref.assign(sid=[f"{HOSTILE[i % 5][:20]}-{i}" for i in range(len(ref))]),
            cur.assign(sid=[f"{HOSTILE[i % 5][:20]}-{i + 290}" for i in range(len(cur))]),
            id="sid",
            keys=[HOSTILE[0]],
            tolerance={HOSTILE[0]: 0.01},
            exclude=["when"],
        ),
        "comparison": compare(
            y,
            p,
            np.clip(p + rng.normal(0, 0.1, n), 0, 1),
            thresholds=[0.2],
            groups=groups,
            names=(HOSTILE[0], HOSTILE[3]),
            criteria={"auroc_difference_ci_high": ("<=", 0.05)},
        ),
        "monitor": monitor(
            mon_frame,
            time="t",
            window="10D",
            target="y",
            prediction="p",
            triggers=[Trigger.auroc_below(0.9), Trigger.feature_drift()],
        ),
    }


@pytest.fixture(scope="module")
def results(frames) -> dict[str, Result]:
    return _results(frames)


def _roundtrip(result: Result) -> None:
    cls = type(result)
    d = result.to_dict()
    text = json.dumps(d, allow_nan=False)  # plain JSON: no NaN, no numpy types
    rfc8785.dumps(d)  # and the canonical JSON of the audit log accepts it
    back = cls.from_dict(json.loads(text))
    assert back == result
    assert back.to_dict() == d
    assert json.dumps(back.to_dict(), allow_nan=False) == text
    assert cmlops.result_from_dict(json.loads(text)) == result
    pd.testing.assert_frame_equal(back.to_frame(), result.to_frame())
    assert (back.passed, back.verdict, repr(back)) == (result.passed, result.verdict, repr(result))


@pytest.mark.parametrize(
    "name",
    [
        "drift",
        "drift_stratified",
        "evaluation",
        "validation",
        "monitor",
        "independence",
        "comparison",
    ],
)
def test_every_result_from_real_data_round_trips_exactly(results, name):
    result = results[name]
    _roundtrip(result)
    d = result.to_dict()
    assert d["kind"] == result._cmlops_result_kind and d["format_version"] == FORMAT_VERSION
    assert d["passed"] == result.passed and d["verdict"] == result.verdict


def test_hostile_strings_survive_the_round_trip_unchanged(results):
    columns = {c.column for c in results["drift"].columns}
    assert {HOSTILE[0], HOSTILE[1], HOSTILE[2]} <= columns
    back = DriftResult.from_dict(json.loads(json.dumps(results["drift"].to_dict())))
    assert {c.column for c in back.columns} == columns
    subgroups = set(results["evaluation"].subgroups)
    assert f"{HOSTILE[1]}={HOSTILE[0]}" in subgroups
    assert f"{HOSTILE[1]}={HOSTILE[3]}" in subgroups


def test_private_fields_stay_in_the_session(results):
    """The independence salt: never normalised (bytes), stored or read back."""
    result = results["independence"]
    assert result.shared_subjects == 10 and isinstance(result._salt, bytes) and result._salt
    d = result.to_dict()
    assert "_salt" not in d and result._salt.hex() not in json.dumps(d)
    back = type(result).from_dict(d)
    assert back == result and back._salt == b""
    with pytest.raises(ResultFormatError, match="does not know"):
        type(result).from_dict({**d, "_salt": result._salt.hex()})


def test_monitor_windows_drift_results_stay_in_the_session(results):
    """Each window's full drift result is session-only (recording it cost ~100x)."""
    mon = results["monitor"]
    assert mon.drift and all(isinstance(r, DriftResult) for r in mon.drift.values())
    d = mon.to_dict()
    assert "drift" not in d and "_drift" not in d
    back = MonitorResult.from_dict(d)
    assert back == mon and back.drift == {}
    drifted = [w for w in mon.windows if w.get("drifted_columns")]
    assert drifted and set(drifted[0]["drift_statistics"]) == set(drifted[0]["drifted_columns"])
    assert d["monitor_id"] == mon.monitor_id == back.monitor_id


def _hand_made() -> list[Result]:
    """Results built by hand with everything a sanitiser must turn into plain JSON."""
    stamp = pd.Timestamp("2024-03-01 12:30", tz="Europe/Paris")
    col = ColumnDrift(
        column=HOSTILE[0],
        kind="numeric",
        test="ks",
        statistic=np.float64(np.nan),
        p_value=np.float32(0.25),
        p_value_adjusted=float("inf"),
        threshold=0.05,
        correction="none",
        effect_size=-np.inf,
        effect_size_name=None,
        drifted=np.bool_(True),
        reference={"n": np.int64(3), "min": stamp, "bins": np.array([1.0, np.nan]), 7: (1, 2)},
        current={"when": dt.date(2024, 1, 2), "tags": {"b", "a"}},
        details={"nested": {"deeper": [np.int32(4), None, np.float64("nan")]}},
    )
    d = DriftResult(
        columns=[col],
        correction="none",
        alpha=np.float64(0.05),
        drift_share=0.5,
        n_tested=1,
        n_drifted=1,
        share_drifted=1.0,
        dataset_drift=True,
        n_reference=3,
        n_current=3,
        settings={"methods": ("ks",), "when": stamp},
        warnings=[HOSTILE[2]],
    )
    e = EvaluationResult(
        metrics=[
            MetricRow("auroc", "all", np.float64(0.7), np.nan, np.inf, np.int64(10), 4),
            MetricRow("brier", "all", None, criterion="brier <= 0.2", passed=False),
        ],
        n=10,
        events=4,
        prevalence=np.float64(0.4),
        score_scale="probability",
        thresholds=(0.1, np.float64(0.2)),
        level=0.95,
        roc={"all": {"fpr": np.array([0.0, 1.0]), "tpr": [0.0, np.float32(1.0)]}},
        criteria={"brier": ("<=", 0.2)},
        passed=False,
    )
    v = ValidationResult(
        checks=[
            CheckResult(
                HOSTILE[3],
                "max",
                np.bool_(False),
                "fail",
                "fail",
                failing_rows=np.int64(2),
                failing_share=np.float64("nan"),
                expected=(1, 2.5),
                examples=[{"row": stamp, "value": np.inf}, {"row": 1, "value": stamp}],
            )
        ],
        verdict="fail",
        n_rows=np.int64(3),
        n_columns=1,
        schema={"created": dt.datetime(2024, 1, 1, 8, 0)},
    )
    m = MonitorResult(
        windows=[
            {"window": "w001", "start": stamp, "n": np.int64(40), "status": "ok", "n_alerts": 1}
            | {"auroc": np.nan}
        ],
        alerts=[Alert("w001", "auroc_ci_low_below", np.float64(0.4), 0.5, HOSTILE[0])],
        triggers=[Trigger.auroc_below(np.float64(0.5))],
        reference={"n": 10, "source": "first window"},
        settings={"window": 40, "features": (HOSTILE[0],)},
        _drift={"w001": d},
    )
    c = ComparisonResult(
        rows=[ComparisonRow("auroc", "all", None, np.float64(0.7), 0.6, np.nan, -np.inf, np.inf)],
        names=(HOSTILE[2], HOSTILE[4]),
        n=np.int64(10),
        events=4,
        prevalence=0.4,
        score_scale="probability",
        thresholds=(),
        level=0.95,
        decision_curve={"thresholds": np.array([0.1, 0.2]), "a": [np.nan, 0.1]},
    )
    return [d, e, v, m, c]


def test_hand_made_results_with_nan_inf_numpy_and_timestamps_round_trip_exactly():
    d, e, v, m, c = _hand_made()
    for result in (d, e, v, m, c):
        _roundtrip(result)
    col = d.columns[0]
    # undefined has one spelling (None); numbers are Python numbers; timestamps ISO 8601
    assert (col.statistic, col.p_value_adjusted, col.effect_size) == (None, None, None)
    assert type(col.p_value) is float and col.drifted is True
    assert col.reference["min"] == "2024-03-01T12:30:00+01:00"
    assert col.reference["bins"] == [1.0, None] and col.reference["7"] == [1, 2]
    assert col.current == {"when": "2024-01-02", "tags": ["a", "b"]}
    assert e.thresholds == [0.1, 0.2] and e.metrics[0].ci_low is None
    assert v.checks[0].examples[0] == {"row": "2024-03-01T12:30:00+01:00", "value": None}
    assert m.windows[0]["start"] == "2024-03-01T12:30:00+01:00" and m.windows[0]["auroc"] is None
    assert c.names == [HOSTILE[2], HOSTILE[4]] and c.rows[0].difference is None
    assert c.decision_curve == {"thresholds": [0.1, 0.2], "a": [None, 0.1]}


def test_a_subclass_with_extra_fields_needs_nothing_to_round_trip(results):
    """What a Spark result with error bounds does: subclass, add a field, done."""

    @dataclass
    class BoundedDrift(DriftResult):
        error_bounds: dict = field(default_factory=dict)

    base = results["drift"]
    values = {f.name: getattr(base, f.name) for f in fields(DriftResult)}
    bounded = BoundedDrift(**values, error_bounds={"age": (np.float64(0.01), np.nan)})
    assert bounded.error_bounds == {"age": [0.01, None]}
    d = bounded.to_dict()
    assert d["error_bounds"] == {"age": [0.01, None]}
    assert BoundedDrift.from_dict(json.loads(json.dumps(d))) == bounded
    assert repr(bounded).startswith("<BoundedDrift ")
    with pytest.raises(ResultFormatError, match=r"does not know .*'error_bounds'"):
        DriftResult.from_dict(d)  # the base class refuses fields it cannot keep


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and len(text) < 400
    return text


def test_a_dict_from_an_older_or_newer_cmlops_is_a_one_line_version_error(results):
    d = results["evaluation"].to_dict()
    old = {k: v for k, v in d.items() if k != "format_version"}  # what cmlops 0.1 wrote
    with pytest.raises(ResultFormatError) as exc:
        EvaluationResult.from_dict(old)
    assert "older cmlops" in _one_line(exc)
    with pytest.raises(ResultFormatError) as exc:
        EvaluationResult.from_dict({**d, "format_version": FORMAT_VERSION + 1})
    assert "newer" in _one_line(exc) and "upgrade cmlops" in str(exc.value)
    with pytest.raises(ResultFormatError) as exc:
        cmlops.result_from_dict({**d, "format_version": "1"})
    assert "not a whole number" in _one_line(exc)
    assert issubclass(ResultFormatError, InvalidInputError)


def test_wrong_kind_damaged_or_edited_dicts_are_refused(results):
    ev = results["evaluation"].to_dict()
    with pytest.raises(ResultFormatError) as exc:
        DriftResult.from_dict(ev)
    assert "'evaluation' result" in _one_line(exc)
    with pytest.raises(ResultFormatError) as exc:
        cmlops.result_from_dict({**ev, "kind": HOSTILE[2]})
    assert "unknown result kind" in _one_line(exc)
    for bad in (None, [ev], "text"):
        with pytest.raises(ResultFormatError) as exc:
            cmlops.result_from_dict(bad)
        _one_line(exc)
    missing = {k: v for k, v in ev.items() if k != "metrics"}
    with pytest.raises(ResultFormatError) as exc:
        EvaluationResult.from_dict(missing)
    assert "lacks the field(s) metrics" in _one_line(exc)
    row_damaged = copy.deepcopy(ev)
    row_damaged["metrics"][0]["surprise"] = 1
    with pytest.raises(ResultFormatError) as exc:
        EvaluationResult.from_dict(row_damaged)
    assert "MetricRow" in _one_line(exc)

    # a verdict flipped by hand no longer follows from the content
    flipped = {**ev, "passed": not ev["passed"], "verdict": "pass"}
    with pytest.raises(ResultFormatError, match="edited"):
        EvaluationResult.from_dict(flipped)
    dr = results["drift"].to_dict()
    with pytest.raises(ResultFormatError, match="edited"):
        DriftResult.from_dict({**dr, "verdict": "pass"})
    mon = results["monitor"].to_dict()
    assert mon["alerts"], "the fixture must fire alerts"
    with pytest.raises(ResultFormatError, match="edited"):
        MonitorResult.from_dict({**mon, "alerts": [], "passed": True, "verdict": "pass"})
    val = results["validation"].to_dict()
    assert val["verdict"] in ("warn", "fail")
    with pytest.raises(ResultFormatError, match="edited"):
        ValidationResult.from_dict({**val, "verdict": "pass", "passed": True})


def test_repr_is_one_short_line_whatever_the_result_holds(results):
    for result in [*results.values(), *_hand_made()]:
        text = repr(result)
        assert "\n" not in text and "\r" not in text and len(text) <= MAX_REPR
        assert text.startswith(f"<{type(result).__name__} {result.verdict}: ")
    ev = results["evaluation"]
    assert len(ev.roc["all"]["fpr"]) > 50 and "0.0, " not in repr(ev)  # not every ROC point


def test_passed_and_verdict_share_one_meaning(frames):
    ref, cur = frames
    verdicts = {}
    for result in _results(frames).values():
        assert result.verdict in VERDICTS
        assert result.passed is {"pass": True, "warn": True, "fail": False}.get(result.verdict)
        verdicts[type(result).__name__] = result.verdict
    # not evaluable: no column can be tested, no criteria given, no window large enough
    untestable = drift(ref[["when"]].astype(str).iloc[:0], cur[["when"]].astype(str).iloc[:0])
    assert (untestable.passed, untestable.verdict) == (None, "not evaluable")
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 50), rng.uniform(0, 1, 50)
    assert evaluate(y, p).passed is None and evaluate(y, p).verdict == "not evaluable"
    small = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=40, freq="D"), "x": p[:40]})
    tiny = monitor(small, time="t", window=20, min_window_rows=30)
    assert (tiny.passed, tiny.verdict) == (None, "not evaluable")
    # warn: a drifted column below the dataset share passes with a flag
    shifted = ref[[HOSTILE[0], HOSTILE[2], "site"]]
    one = drift(shifted, shifted.assign(**{HOSTILE[0]: shifted[HOSTILE[0]] + 2}))
    assert (one.n_drifted, one.dataset_drift, one.verdict, one.passed) == (1, False, "warn", True)


def test_every_result_class_follows_the_protocol():
    import importlib

    classes = {}
    for kind, target in KINDS.items():
        module, _, name = target.partition(":")
        cls = getattr(importlib.import_module(module), name)
        assert issubclass(cls, Result) and cls._cmlops_result_kind == kind
        assert cls.__repr__ is Result.__repr__  # not the dataclass field dump
        classes[kind] = cls
    exported = {getattr(cmlops, n) for n in cmlops.__all__}
    assert set(classes.values()) <= exported
