"""Train/test independence on real clinical data (flchain) with planted leaks.

Subject ids are synthetic (flchain has none) and written as strings a hostile
reviewer could grep for; every count is checked against a brute-force reference
computed here, and hashes against the standard library's HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import numpy as np
import pandas as pd
import pytest

import cmlops
from cmlops.errors import InvalidInputError
from cmlops.stats.independence import IndependenceInputError

SALT = b"0123456789abcdef-test-salt"
PLANTED = ["FLC-000017", "FLC-004242", "FLC-007001"]


@pytest.fixture(scope="module")
def flchain() -> pd.DataFrame:
    from cmlops.reports.demo import flchain_frames

    development, validation = flchain_frames()
    frame = pd.concat([development, validation], ignore_index=True)
    frame.insert(0, "subject_id", [f"FLC-{i:06d}" for i in range(len(frame))])
    return frame


def split_with_planted(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 70/30 split by subject, then the rows of 3 training subjects copied into test."""
    rng = np.random.default_rng(7)
    in_train = rng.random(len(frame)) < 0.7
    for sid in PLANTED:
        in_train[frame.index[frame.subject_id == sid][0]] = True
    train, test = frame[in_train], frame[~in_train]
    leaked = train[train.subject_id.isin(PLANTED)].copy()
    leaked["creatinine"] = leaked["creatinine"] + 0.01  # a later visit: not an exact duplicate
    return train.reset_index(drop=True), pd.concat([test, leaked], ignore_index=True)


@pytest.mark.req("REQ-STA-007")
def test_three_planted_subjects_are_found_exactly(flchain: pd.DataFrame) -> None:
    train, test = split_with_planted(flchain)
    result = cmlops.independence(train, test, id="subject_id", salt=SALT)
    assert result.shared_subjects == 3
    assert result.shared_test_rows == 3
    expected = sorted(
        hmac.new(SALT, f"s:{sid}".encode(), hashlib.sha256).hexdigest() for sid in PLANTED
    )
    assert result.shared_subject_hashes == expected
    assert result.verdict == "fail" and not result.passed
    assert sorted(result.shared_rows(test).subject_id) == PLANTED
    assert result.n_train_subjects == train.subject_id.nunique()
    assert result.n_test_subjects == test.subject_id.nunique()


@pytest.mark.req("REQ-STA-007")
def test_no_identifier_in_anything_the_result_emits(flchain: pd.DataFrame) -> None:
    from cmlops.widgets.display import mimebundle
    from cmlops.widgets.static import to_html

    train, test = split_with_planted(flchain)
    result = cmlops.independence(train, test, id="subject_id", keys=["age", "sex"])
    emitted = "\n".join(
        [
            json.dumps(result.to_dict()),
            repr(result),
            result.to_frame().to_string(),
            to_html(result),
            json.dumps(mimebundle(result, mode="static"), default=str),
        ]
    )
    assert "FLC-" not in emitted
    assert "_salt" not in result.to_dict()
    assert result.salt_id in emitted  # the salt's public name, never the salt


@pytest.mark.req("REQ-STA-007")
def test_exact_duplicate_rows_under_new_ids_match_brute_force(flchain: pd.DataFrame) -> None:
    train = flchain.iloc[:3000].reset_index(drop=True)
    test = flchain.iloc[3000:4000].reset_index(drop=True)
    copies = train.iloc[[5, 50, 500, 1500]].copy()
    copies["subject_id"] = [f"NEW-{i}" for i in range(len(copies))]  # re-enrolled under new ids
    test = pd.concat([test, copies], ignore_index=True)
    result = cmlops.independence(train, test, id="subject_id")
    columns = [c for c in train.columns if c != "subject_id"]

    def rows(frame: pd.DataFrame) -> list[tuple]:
        return [
            tuple("<NA>" if pd.isna(v) else v for v in row)
            for row in frame[columns].itertuples(index=False)
        ]

    train_rows = set(rows(train))
    expected = [i for i, row in enumerate(rows(test)) if row in train_rows]
    assert result.duplicate_rows == len(expected) >= 4
    assert result.duplicate_positions == expected
    assert result.shared_subjects == 0
    assert result.verdict == "warn"


@pytest.mark.req("REQ-STA-007")
def test_near_duplicates_match_brute_force(flchain: pd.DataFrame) -> None:
    train = flchain.iloc[:800].reset_index(drop=True)
    test = flchain.iloc[800:1400].reset_index(drop=True)
    tol = {"age": 1.0, "kappa": 0.05}
    result = cmlops.independence(
        train, test, id="subject_id", keys=["age", "sex", "kappa"], tolerance=tol
    )
    a_age, b_age = train.age.to_numpy(), test.age.to_numpy()
    a_k, b_k = train.kappa.to_numpy(), test.kappa.to_numpy()
    a_sex, b_sex = train.sex.to_numpy(), test.sex.to_numpy()
    expected = [
        j
        for j in range(len(test))
        if np.any(
            (np.abs(a_age - b_age[j]) <= 1.0)
            & (np.abs(a_k - b_k[j]) <= 0.05 + 1e-12)
            & (a_sex == b_sex[j])
        )
    ]
    assert 0 < result.near_duplicates == len(expected)
    assert result.near_duplicate_positions == expected[:1000]


def test_integer_ids_and_integral_floats_compare_as_one_type() -> None:
    train = pd.DataFrame({"sid": [1, 2, 3, 4], "x": [0.1, 0.2, 0.3, 0.4]})
    test = pd.DataFrame({"sid": [4.0, 5.0, np.float64(1)], "x": [9.0, 9.1, 9.2]})
    result = cmlops.independence(train, test, id="sid", salt=SALT)
    assert result.shared_subjects == 2
    assert result.id_type == "int"


def test_same_salt_same_hashes_other_salt_other_hashes() -> None:
    train = pd.DataFrame({"sid": ["a", "b"], "x": [1, 2]})
    test = pd.DataFrame({"sid": ["b", "c"], "x": [3, 4]})
    one = cmlops.independence(train, test, id="sid", salt=SALT)
    two = cmlops.independence(train, test, id="sid", salt=SALT)
    other = cmlops.independence(train, test, id="sid")
    assert one.shared_subject_hashes == two.shared_subject_hashes
    assert one.shared_subject_hashes != other.shared_subject_hashes
    assert one.salt_id == two.salt_id != other.salt_id


def test_case_and_space_variants_are_warned_not_counted() -> None:
    train = pd.DataFrame({"sid": ["S-001", "S-002"], "x": [1, 2]})
    test = pd.DataFrame({"sid": [" s-001", "S-003"], "x": [3, 4]})
    result = cmlops.independence(train, test, id="sid")
    assert result.shared_subjects == 0
    assert any("1 more subjects match" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("train", "test", "kwargs", "message"),
    [
        ({"sid": [1, "a"]}, {"sid": ["b"]}, {"id": "sid"}, "mixes int and str"),
        ({"sid": [1, 2]}, {"sid": ["1"]}, {"id": "sid"}, "integer"),
        ({"sid": ["a"]}, {"other": ["b"]}, {"id": "sid"}, "'sid' is not in test"),
        ({"sid": ["a", None]}, {"sid": ["b"]}, {"id": "sid"}, "1 missing values in train"),
        ({"sid": [1.5]}, {"sid": [2.0]}, {"id": "sid"}, "fractional"),
        ({"sid": [True]}, {"sid": [False]}, {"id": "sid"}, "boolean"),
        ({"sid": ["a"]}, {"sid": ["b"]}, {"id": "sid", "keys": ["nope"]}, "'nope'"),
        (
            {"sid": ["a"], "s": ["m"]},
            {"sid": ["b"], "s": ["f"]},
            {"id": "sid", "keys": ["s"], "tolerance": {"s": 1}},
            "not numeric",
        ),
        (
            {"sid": ["a"], "v": [1]},
            {"sid": ["b"], "v": [1]},
            {"id": "sid", "keys": ["v"], "tolerance": {"v": -1}},
            ">= 0",
        ),
        ({"sid": ["a"]}, {"sid": ["b"]}, {"id": "sid", "salt": b"short"}, "16 bytes"),
    ],
)
def test_bad_input_is_one_line(train: dict, test: dict, kwargs: dict, message: str) -> None:
    with pytest.raises(IndependenceInputError) as caught:
        cmlops.independence(pd.DataFrame(train), pd.DataFrame(test), **kwargs)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert isinstance(caught.value, InvalidInputError)


def test_not_a_frame_is_refused() -> None:
    with pytest.raises(IndependenceInputError, match="must be a pandas DataFrame"):
        cmlops.independence([1, 2], pd.DataFrame({"a": [1]}))
