"""cmlops.drift on Spark (local[2]): wall time, cost per million rows, driver memory, accuracy.

Data as in bench_drift.py (fixed seed): reference and current of N rows, numeric
columns of several families (normal, log-normal, exponential, integer counts) and
categorical string columns with 10 levels, drift injected in a known subset. Written
once as Parquet into ``benchmarks/.work/spark/`` (git-ignored) and reused.

For each N it prints: the wall time of ``cmlops.drift`` on the Parquet frames
(median of ``--repeat``; the Spark session is started once, not timed), seconds per
million rows (both frames counted), the peak of Python allocations on the driver
during the call (tracemalloc: what "collecting to the driver" would inflate) and the
driver JVM's heap after a GC; which columns were flagged. With ``--accuracy`` (meant
for 10M) it also computes the exact statistics with the pandas path on the same
data and prints max |sketch − exact| against the stated bound and whether the
verdicts agree. With ``--pandas`` it times the pandas path on the same data read
into memory (the same-run baseline the ratio is against). The machine's load is
printed with each figure (2 cores shared).

Usage::

    .venv/bin/python benchmarks/bench_spark.py --sizes 1000000 10000000 --pandas --accuracy
    .venv/bin/python benchmarks/bench_spark.py --sizes 100000000 --columns 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "spark"
ROOT = HERE.parent
LEVELS = 10
CHUNK = 2_000_000


def layout(n_columns: int) -> tuple[list[str], list[str], set[str]]:
    n_cat = max(2, n_columns // 5)
    n_num = n_columns - n_cat
    num = [f"x{i}" for i in range(n_num)]
    cat = [f"c{j}" for j in range(n_cat)]
    drifted = {*num[: max(1, n_num // 5)], cat[0]}
    return num, cat, drifted


def _chunk(rng, n: int, side: str, num: list[str], cat: list[str], drifted: set[str]):
    import pyarrow as pa

    levels = np.array([f"level_{i}" for i in range(LEVELS)], dtype=object)
    cols = {}
    for i, name in enumerate(num):
        family = i % 4
        if family == 0:
            v = rng.normal(size=n)
        elif family == 1:
            v = rng.lognormal(size=n)
        elif family == 2:
            v = rng.exponential(size=n)
        else:
            v = rng.poisson(5, size=n).astype(np.float64)
        if side == "cur" and name in drifted:
            v = v + 0.5 * (v.std() or 1.0)
        cols[name] = v
    for name in cat:
        c = rng.integers(0, LEVELS, size=n)
        if side == "cur" and name in drifted:
            move = rng.random(n) < (0.35 - 0.10) / 0.90
            c[move] = 0
        cols[name] = pa.array(levels[c], type=pa.string())
    return pa.table(cols)


def generate(n: int, n_columns: int) -> Path:
    """Parquet folders ref/ and cur/ of n rows each (written once, then reused)."""
    import pyarrow.parquet as pq

    folder = WORK / f"n{n}_c{n_columns}"
    done = folder / "_COMPLETE"
    if done.exists():
        return folder
    num, cat, drifted = layout(n_columns)
    rng = np.random.default_rng(20261202)
    for side in ("ref", "cur"):
        (folder / side).mkdir(parents=True, exist_ok=True)
        for k, start in enumerate(range(0, n, CHUNK)):
            part = _chunk(rng, min(CHUNK, n - start), side, num, cat, drifted)
            pq.write_table(part, folder / side / f"part-{k:05d}.parquet")
    done.write_text("ok\n")
    return folder


def session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("cmlops-bench")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", "6g")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )


def jvm_heap_mb(spark) -> float:
    jvm = spark.sparkContext._jvm
    jvm.System.gc()
    rt = jvm.Runtime.getRuntime()
    return (rt.totalMemory() - rt.freeMemory()) / 2**20


def timed(fn, repeat: int):
    times, peaks, result = [], [], None
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return statistics.median(times), max(peaks), result


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def accuracy(folder: Path, res, num: list[str]) -> None:
    """max |sketch − exact| against the stated bound, and verdicts, vs the pandas path."""
    import pandas as pd

    import cmlops

    ref = pd.read_parquet(folder / "ref")
    cur = pd.read_parquet(folder / "cur")
    exact = cmlops.drift(ref, cur)
    ks_exact = cmlops.drift(ref[num], cur[num], methods=dict.fromkeys(num, "ks"))
    worst_ratio, agree = 0.0, True
    for col in res.columns:
        e = exact[col.column]
        agree &= col.drifted == e.drifted
        if col.error_bound:
            worst_ratio = max(worst_ratio, abs(col.statistic - e.statistic) / col.error_bound)
    print(
        f"  accuracy vs exact (pandas path): same verdicts: {agree}; "
        f"max |sketch-exact| / bound = {worst_ratio:.2f} (<= 1 holds the bound)"
    )
    return ks_exact


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--columns", type=int, default=25)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pandas", action="store_true", help="time the pandas path too")
    ap.add_argument("--accuracy", action="store_true", help="compare with exact statistics")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    import cmlops

    print(f"machine: {os.cpu_count()} CPUs; {load()}; python {sys.version.split()[0]}")
    spark = session()
    spark.sparkContext.setLogLevel("ERROR")
    print(f"spark {spark.version} local[2]; {load()}")
    num, _, drifted = layout(args.columns)
    for n in args.sizes:
        t0 = time.perf_counter()
        folder = generate(n, args.columns)
        print(
            f"\nN = {n:,} rows per frame, {args.columns} columns ({time.perf_counter() - t0:.0f} s "
            f"to generate or find the data); {load()}"
        )
        ref = spark.read.parquet(str(folder / "ref"))
        cur = spark.read.parquet(str(folder / "cur"))
        heap0 = jvm_heap_mb(spark)
        wall, peak, res = timed(lambda r=ref, c=cur: cmlops.drift(r, c), args.repeat)
        heap1 = jvm_heap_mb(spark)
        per_m = wall / (2 * n / 1e6)
        print(
            f"  cmlops.drift on Spark   {wall:8.1f} s   {per_m:.3f} s per million rows   "
            f"driver Python peak {peak:.1f} MB   JVM heap {heap0:.0f} -> {heap1:.0f} MB; {load()}"
        )
        found = set(res.drifted_columns)
        print(
            f"    flagged {sorted(found)}; injected found and no other: {found == drifted}; "
            f"uncertain: {res.uncertain_columns}"
        )
        if args.accuracy:
            ks = cmlops.drift(ref.select(*num), cur.select(*num), methods=dict.fromkeys(num, "ks"))
            ks_exact = accuracy(folder, res, num)
            diffs = [
                (abs(a.statistic - b.statistic), a.error_bound)
                for a, b in zip(ks.columns, ks_exact.columns, strict=True)
            ]
            worst = max(diffs)
            print(
                f"  KS: max |KS - exact KS| = {worst[0]:.5f} (stated bound {worst[1]:.5f}); "
                f"all within bound: {all(d <= b for d, b in diffs)}"
            )
        if args.pandas:
            import pandas as pd

            pref, pcur = pd.read_parquet(folder / "ref"), pd.read_parquet(folder / "cur")
            t0 = time.perf_counter()
            cmlops.drift(pref, pcur)
            t_pd = time.perf_counter() - t0
            print(
                f"  cmlops.drift on pandas  {t_pd:8.1f} s   (data in memory)   "
                f"Spark / pandas {wall / t_pd:.1f}x; {load()}"
            )
            del pref, pcur


if __name__ == "__main__":
    main()
