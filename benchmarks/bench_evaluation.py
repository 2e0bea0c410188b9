"""Speed of clinical model evaluation and of data validation.

    .venv/bin/python benchmarks/bench_evaluation.py [--sizes 10000 100000 1000000]
        [--validation-rows 1000000] [--naive-max 100000]

Measured in the same run, same data, fixed seed:
* DeLong AUROC + variance by midranks (cmlops, O(n log n)) against
  (a) the naive O(n^2) structural-components DeLong (pairwise, chunked to bound
  memory; above ``--naive-max`` its time is extrapolated as n_pos * n_neg and
  marked "est."), and (b) ``sklearn.metrics.roc_auc_score`` (the AUC alone, no
  variance: the floor any AUROC needs - one sort);
* the whole ``evaluate()`` (all metrics, curves, 2 thresholds) for scale;
* ``validate()`` of a 1M-row, 10-column frame against plain pandera running the
  same checks (lazy validation, same number of checks): cmlops' overhead is the
  schema translation, the dtype layer and the per-check counts and examples.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]

from cmlops.stats.delong import auroc_delong  # noqa: E402
from cmlops.stats.evaluation import evaluate  # noqa: E402
from cmlops.stats.validation import infer_schema, validate  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def naive_delong(y: np.ndarray, s: np.ndarray, chunk: int = 64) -> tuple[float, float]:
    """Pairwise structural components, O(n_pos * n_neg), in chunks of positives."""
    pos, neg = s[y == 1], s[y == 0]
    v10 = np.empty(pos.size)
    v01 = np.zeros(neg.size)
    for i in range(0, pos.size, chunk):
        p = pos[i : i + chunk, None]
        psi = (p > neg[None, :]) + 0.5 * (p == neg[None, :])
        v10[i : i + chunk] = psi.mean(axis=1)
        v01 += psi.sum(axis=0)
    v01 /= pos.size
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(v10.mean()), float(np.sqrt(var))


def simulate(n: int, seed: int = 20261122) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(x - 1.4)))  # prevalence about 25 %
    y = rng.binomial(1, p)
    return y, np.round(p, 4)  # rounding creates ties, as real scores have


def bench_auroc(sizes: list[int], naive_max: int) -> None:
    from sklearn.metrics import roc_auc_score

    print("## AUROC with DeLong variance")
    print(f"{'n':>9} {'cmlops s':>9} {'naive s':>12} {'x naive':>9} {'sklearn AUC s':>14} "
          f"{'/ sklearn':>9} {'evaluate() s':>13}")  # fmt: skip
    ref_rate = None
    for n in sizes:
        y, s = simulate(n)
        fast = best_of(lambda y=y, s=s: auroc_delong(y, s))
        sk = best_of(lambda y=y, s=s: roc_auc_score(y, s))
        pairs = float(y.sum()) * float((1 - y).sum())
        if n <= naive_max:
            t0 = time.perf_counter()
            auc_n, se_n = naive_delong(y, s)
            naive = time.perf_counter() - t0
            d = auroc_delong(y, s)
            assert abs(d.auc - auc_n) < 1e-9 and abs(d.se - se_n) < 1e-9, "naive disagrees"
            ref_rate = naive / pairs
            naive_txt = f"{naive:.3f}"
        else:
            naive = ref_rate * pairs
            naive_txt = f"{naive:.0f} est."
        full = best_of(lambda y=y, s=s: evaluate(y, s, thresholds=[0.2, 0.5]), repeat=1)
        print(f"{n:>9} {fast:>9.4f} {naive_txt:>12} {naive / fast:>9.0f} {sk:>14.4f} "
              f"{fast / sk:>9.2f} {full:>13.3f}")  # fmt: skip


def clinical_frame(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame(
        {
            "subject": np.char.add("S", np.arange(n).astype(str)).astype(object),
            "site": rng.choice(["BSL", "BOS", "LON", "TYO", "SAO"], n),
            "arm": pd.Categorical(rng.choice(["placebo", "low", "high"], n)),
            "age": rng.integers(18, 90, n),
            "weight": rng.normal(75, 12, n),
            "sbp": rng.normal(130, 15, n),
            "egfr": np.where(rng.random(n) < 0.05, np.nan, rng.normal(80, 20, n)),
            "visit": rng.integers(1, 12, n),
            "start": start,
            "end": start + pd.to_timedelta(rng.integers(0, 200, n), unit="D"),
        }
    )


def plain_pandera_schema(df: pd.DataFrame):
    """The same checks cmlops infers, written directly in pandera."""
    import pandera.pandas as pa

    def rng_checks(c):
        return [pa.Check.ge(df[c].min()), pa.Check.le(df[c].max())]

    return pa.DataFrameSchema(
        {
            "subject": pa.Column(None, unique=True),
            "site": pa.Column(None, pa.Check.isin(sorted(df["site"].unique()))),
            "arm": pa.Column(None, pa.Check.isin(list(df["arm"].cat.categories))),
            "age": pa.Column(None, rng_checks("age")),
            "weight": pa.Column(None, rng_checks("weight")),
            "sbp": pa.Column(None, rng_checks("sbp")),
            "egfr": pa.Column(None, rng_checks("egfr"), nullable=True),
            "visit": pa.Column(None, [*rng_checks("visit"), pa.Check.isin(list(range(1, 12)))]),
            "start": pa.Column(None, rng_checks("start")),
            "end": pa.Column(None, rng_checks("end")),
        },
        checks=[pa.Check(lambda d: d["start"] <= d["end"], ignore_na=False)],
    )


def bench_validation(n: int) -> None:
    import pandera.pandas as pa

    df = clinical_frame(n)
    t0 = time.perf_counter()
    schema = infer_schema(df, date_order=[("start", "end")])
    infer = time.perf_counter() - t0
    bad = df.copy()
    idx = np.random.default_rng(1).choice(n, n // 1000, replace=False)
    bad.loc[idx, "age"] = 150
    bad.loc[idx[: len(idx) // 2], "site"] = "XXX"
    plain = plain_pandera_schema(df)

    def run_plain(frame):
        try:
            plain.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            return exc.failure_cases
        return None

    print(f"\n## Validation of a {n:,}-row, {df.shape[1]}-column frame")
    print(f"infer_schema: {infer:.3f} s")
    print(f"{'frame':>10} {'cmlops validate s':>18} {'plain pandera s':>16} {'ratio':>6}")
    for label, frame in (("clean", df), ("0.1% bad", bad)):
        ours = best_of(lambda f=frame: validate(f, schema), repeat=3)
        base = best_of(lambda f=frame: run_plain(f), repeat=3)
        print(f"{label:>10} {ours:>18.3f} {base:>16.3f} {ours / base:>6.2f}")
    r = validate(bad, schema)
    print(f"verdict on the corrupted copy: {r.verdict}; failing rows per failed check: "
          + ", ".join(f"{c.column}.{c.check}={c.failing_rows}" for c in r.failures()))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--naive-max", type=int, default=100_000)
    ap.add_argument("--validation-rows", type=int, default=1_000_000)
    args = ap.parse_args()
    print(f"numpy {np.__version__}, pandas {pd.__version__}")
    bench_auroc(args.sizes, args.naive_max)
    bench_validation(args.validation_rows)


if __name__ == "__main__":
    main()
