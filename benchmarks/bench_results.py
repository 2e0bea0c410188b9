"""Cost of the result protocol and of ``cmlops.compare``, each against a baseline in the same run.

    .venv/bin/python benchmarks/bench_results.py [--sizes 10000 100000 1000000]

Fixed seeds, the same data for both sides of every ratio:

* ``compare()`` of two models (paired DeLong, Brier, calibration, net benefit at 2
  thresholds, curves) against ``evaluate()`` of each model (what a user without
  ``compare`` runs: two calls, no paired statistics); and the paired DeLong alone
  against two unpaired ``auroc_delong`` calls;
* the result protocol on a drift result of 1M rows x 25 columns: the normalisation
  every result gets at construction (plain values, so ``from_dict(to_dict(r)) == r``)
  and the ``to_dict``/``from_dict`` round trip, against the ``drift()`` call itself;
* what a tracked cell pays to record a monitoring result (``json_safe`` +
  fingerprint + RFC 8785 canonical JSON of ``to_dict()``), against the same dict
  with every window's full drift result added - the design not taken, which is why
  ``MonitorResult.drift`` is session-only (33 windows x 25 columns).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from cmlops.stats.comparison import compare  # noqa: E402
from cmlops.stats.delong import auroc_delong, paired_auroc_delong  # noqa: E402
from cmlops.stats.drift import ColumnDrift, DriftResult, drift  # noqa: E402
from cmlops.stats.evaluation import evaluate  # noqa: E402
from cmlops.stats.monitoring import monitor  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def two_models(n: int, seed: int = 20261202) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    y = rng.binomial(1, 1 / (1 + np.exp(-(x + 0.5 * z - 1.4))))
    a = np.round(1 / (1 + np.exp(-(x - 1.3))), 4)  # ties, as real scores have
    b = np.round(1 / (1 + np.exp(-(1.2 * (x + 0.5 * z) - 1.5))), 4)
    return y, a, b


THRESHOLDS = [0.2, 0.5]


def _evaluate_both(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    evaluate(y, a, thresholds=THRESHOLDS)
    evaluate(y, b, thresholds=THRESHOLDS)


def bench_compare(sizes: list[int]) -> None:
    print("## compare() against evaluate() of each model")
    print(f"{'n':>9} {'compare s':>10} {'2x evaluate s':>14} {'ratio':>6} "
          f"{'paired DeLong s':>16} {'2x auroc_delong s':>18} {'ratio':>6}")  # fmt: skip
    y, a, b = two_models(2000)
    compare(y, a, b, thresholds=THRESHOLDS)  # warm up imports: not part of either side
    _evaluate_both(y, a, b)
    for n in sizes:
        y, a, b = two_models(n)
        repeat = 3 if n <= 100_000 else 1
        both = best_of(lambda y=y, a=a, b=b: compare(y, a, b, thresholds=THRESHOLDS), repeat)
        single = best_of(lambda y=y, a=a, b=b: _evaluate_both(y, a, b), repeat)
        paired = best_of(lambda y=y, a=a, b=b: paired_auroc_delong(y, a, b))
        unpaired = best_of(lambda y=y, a=a, b=b: (auroc_delong(y, a), auroc_delong(y, b)))
        print(f"{n:>9} {both:>10.3f} {single:>14.3f} {both / single:>6.2f} "
              f"{paired:>16.4f} {unpaired:>18.4f} {paired / unpaired:>6.2f}")  # fmt: skip


def drift_frames(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cols = {f"x{i}": rng.normal(size=n) for i in range(20)}
    cols |= {f"c{i}": rng.choice([f"l{j}" for j in range(10)], n) for i in range(5)}
    ref = pd.DataFrame(cols)
    cur = ref.copy()
    cur["x0"] = cur["x0"] + 0.5
    return ref, cur


def bench_protocol(n: int) -> None:
    print(f"\n## result protocol on a drift result ({n:,} rows x 25 columns)")
    ref, cur = drift_frames(n)
    drift(ref.iloc[:1000], cur.iloc[:1000])  # warm up imports
    result = drift(ref, cur)
    call = best_of(lambda: drift(ref, cur))

    def rebuild() -> None:
        cols = [
            ColumnDrift(**{f.name: getattr(c, f.name) for f in fields(c)}) for c in result.columns
        ]
        DriftResult(
            **{**{f.name: getattr(result, f.name) for f in fields(result)}, "columns": cols}
        )

    normalise = best_of(rebuild, repeat=5)
    to_dict = best_of(result.to_dict, repeat=5)
    d = result.to_dict()
    back = best_of(lambda: DriftResult.from_dict(d), repeat=5)
    assert DriftResult.from_dict(json.loads(json.dumps(d))) == result
    print(f"drift() {call:.3f} s; normalisation at construction {normalise * 1000:.1f} ms "
          f"({normalise / call:.1%} of the call); to_dict {to_dict * 1000:.1f} ms; "
          f"from_dict {back * 1000:.1f} ms; dict {len(json.dumps(d)) / 1e3:.0f} kB")  # fmt: skip


def _values(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def monitoring_result():
    rng = np.random.default_rng(11)
    n = 24_000
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2024-01-01", periods=n, freq="h"),
            **{f"x{i}": rng.normal(size=n) for i in range(25)},
            "y": rng.integers(0, 2, n),
            "p": rng.uniform(0, 1, n),
        }
    )
    return monitor(frame, time="t", window="30D", target="y", prediction="p")


def bench_capture() -> None:
    from cmlops.fingerprinting import FingerprintOptions, fingerprint
    from cmlops.json_safe import json_safe
    from cmlops.store.chain import canonical_json

    print("\n## recording a monitoring result (what a tracked cell pays)")
    result = monitoring_result()
    stored = result.to_dict()
    full = {**stored, "drift": {k: r.to_dict() for k, r in result.drift.items()}}
    options = FingerprintOptions()

    def record(content: dict) -> None:
        plain = json_safe(content)
        fingerprint(plain, options=options)
        canonical_json(plain)

    with_drift = best_of(lambda: record(full))
    as_stored = best_of(lambda: record(stored))
    size_full, size_stored = len(json.dumps(full)) / 1e6, len(json.dumps(stored)) / 1e6
    print(f"{len(result.windows)} windows x 25 columns: to_dict() as stored "
          f"{size_stored:.3f} MB, {as_stored:.3f} s; with every window's drift result "
          f"{size_full:.2f} MB, {with_drift:.3f} s ({with_drift / as_stored:.0f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--drift-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_compare(args.sizes)
    bench_protocol(args.drift_rows)
    bench_capture()


if __name__ == "__main__":
    main()
