"""Train/test independence speed: cmlops.independence vs a straightforward pandas/Python version.

Synthetic clinical-like data (fixed seed): a training set of N rows and a test
set of N/3 rows, string subject ids (``S-0000001``), 2 % of test subjects
planted from training, 0.5 % exact duplicate rows under new ids, and 8 columns
(age, sex, site, 5 lab values). Checks: shared subjects, exact duplicate rows,
near-duplicates on (age ± 1, sex, site).

Baseline (what one writes without cmlops, same answers): every id hashed with
HMAC-SHA256 before comparison, rows compared as Python tuples in a set, and
near-duplicates by a per-test-row NumPy scan over the training rows of the same
(sex, site) — run on a 5 % sample of the test set and scaled, since the full
scan takes minutes. Prints the median of ``--repeat`` runs and the ratio.

Usage::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_independence.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import time

import numpy as np
import pandas as pd


def make(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    m = n // 3

    def frame(size: int, start: int) -> pd.DataFrame:
        data = {
            "subject_id": [f"S-{i:07d}" for i in range(start, start + size)],
            "age": rng.integers(18, 90, size).astype(float),
            "sex": rng.choice(["F", "M"], size),
            "site": rng.choice([f"site{i}" for i in range(20)], size),
        }
        for j in range(5):
            data[f"lab{j}"] = np.round(rng.normal(100, 15, size), 1)
        return pd.DataFrame(data)

    train, test = frame(n, 0), frame(m, n)
    k = m // 50
    test.iloc[:k, 0] = train.subject_id.iloc[:k].to_numpy()
    d = m // 200
    test.iloc[k : k + d, 1:] = train.iloc[k : k + d, 1:].to_numpy()
    return train, test


def baseline(train: pd.DataFrame, test: pd.DataFrame, sample: float) -> tuple[float, int, int]:
    key = b"benchmark-salt-0123456789"
    started = time.perf_counter()
    h = {hmac.new(key, s.encode(), hashlib.sha256).hexdigest() for s in train.subject_id}
    shared = sum(
        hmac.new(key, s.encode(), hashlib.sha256).hexdigest() in h for s in test.subject_id
    )
    cols = [c for c in train.columns if c != "subject_id"]
    rows = set(train[cols].itertuples(index=False, name=None))
    dups = sum(r in rows for r in test[cols].itertuples(index=False, name=None))
    part = time.perf_counter() - started
    take = test.sample(frac=sample, random_state=0)
    started = time.perf_counter()
    age, sex, site = train.age.to_numpy(), train.sex.to_numpy(), train.site.to_numpy()
    for row in take.itertuples(index=False):
        np.any((np.abs(age - row.age) <= 1) & (sex == row.sex) & (site == row.site))
    near = (time.perf_counter() - started) / sample
    return part + near, shared, dups


def main() -> None:
    import cmlops

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-sample", type=float, default=0.05)
    args = parser.parse_args()
    for n in args.sizes:
        train, test = make(n)
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = cmlops.independence(
                train, test, id="subject_id", keys=["age", "sex", "site"], tolerance={"age": 1}
            )
            times.append(time.perf_counter() - started)
        ours = statistics.median(times)
        base, shared, dups = baseline(train, test, args.baseline_sample)
        assert result.shared_subjects == shared and result.duplicate_rows == dups
        print(
            f"N={n:>9,} train / {len(test):,} test: cmlops.independence {ours:.2f} s "
            f"(shared {result.shared_subjects}, duplicates {result.duplicate_rows}, "
            f"near {result.near_duplicates}); baseline {base:.1f} s "
            f"(near-duplicates extrapolated from a {args.baseline_sample:.0%} sample); "
            f"ratio {base / ours:.0f}x"
        )


if __name__ == "__main__":
    main()
