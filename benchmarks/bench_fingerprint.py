"""Fingerprint throughput against pandas.util.hash_pandas_object and raw hashlib.sha256.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/bench_fingerprint.py [--gb 1.0]

Measures, in one process and one run (one core; BLAKE3 is single-threaded here):
  * a numeric DataFrame of >= 1 GB: cmlops.fingerprint, raw BLAKE3 and raw SHA-256
    over the same column bytes (the hashing limit), and hash_pandas_object;
  * a string-column frame (pandas' default ``str`` dtype and ``object``): MB/s of
    UTF-8 content for cmlops.fingerprint and hash_pandas_object.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import time

import blake3
import numpy as np
import pandas as pd

from cmlops.fingerprinting import FingerprintOptions, fingerprint

NO_LIMIT = FingerprintOptions(max_bytes=None)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def numeric(gigabytes: float, repeat: int) -> None:
    columns = 64
    rows = int(gigabytes * 1e9 / 8 / columns)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"c{i}": rng.standard_normal(rows) for i in range(columns)}, copy=False)
    nbytes = int(frame.memory_usage(index=False).sum())
    arrays = [frame[c].to_numpy() for c in frame.columns]

    def raw_sha256() -> None:
        digest = hashlib.sha256()
        for array in arrays:
            digest.update(memoryview(array).cast("B"))

    def raw_blake3() -> None:
        digest = blake3.blake3()
        for array in arrays:
            digest.update(memoryview(array).cast("B"))

    t_fp = best_of(lambda: fingerprint(frame, options=NO_LIMIT), repeat)
    t_b3 = best_of(raw_blake3, repeat)
    t_sha = best_of(raw_sha256, repeat)
    t_pd = best_of(lambda: pd.util.hash_pandas_object(frame, index=True), 1)
    gbs = lambda t: nbytes / t / 1e9  # noqa: E731
    print(f"numeric frame: {rows:,} rows x {columns} float64 = {nbytes / 1e9:.2f} GB")
    print(f"  cmlops.fingerprint       {gbs(t_fp):6.2f} GB/s  ({t_fp:.2f} s)")
    print(f"  raw blake3 (limit)       {gbs(t_b3):6.2f} GB/s")
    print(f"  raw hashlib.sha256       {gbs(t_sha):6.2f} GB/s")
    print(f"  hash_pandas_object       {gbs(t_pd):6.2f} GB/s")
    print(
        f"  ratio fingerprint / sha256 = {t_sha / t_fp:.2f}x, / hash_pandas_object = "
        f"{t_pd / t_fp:.2f}x, of raw blake3 = {t_b3 / t_fp:.0%}"
    )
    print(f"  goal >= 1.2 GB/s: {'MET' if gbs(t_fp) >= 1.2 else 'NOT MET'}")


def strings(rows: int, repeat: int) -> None:
    rng = np.random.default_rng(1)
    words = np.array(["placebo", "drug A", "withdrawn", "site-0042", "Ωmega ✓", "adverse event"])
    values = (
        pd.Series(rng.choice(words, rows))
        + "-"
        + pd.Series(rng.integers(0, 10**9, rows)).astype(str)
    )
    content = int(values.str.encode("utf-8").str.len().sum())
    for label, series in (
        ("str (pyarrow)", values.astype("str")),
        ("object", values.astype(object)),
    ):
        frame = pd.DataFrame({"s": series, "t": series.iloc[::-1].to_numpy()})
        total = 2 * content
        t_fp = best_of(lambda f=frame: fingerprint(f, options=NO_LIMIT), repeat)
        small = frame.iloc[: rows // 10]
        t_pd = best_of(lambda s=small: pd.util.hash_pandas_object(s, index=True), 1) * 10
        mbs = lambda t, total=total: total / t / 1e6  # noqa: E731
        print(f"string frame [{label}]: {rows:,} rows x 2 columns, {total / 1e6:.0f} MB UTF-8")
        print(f"  cmlops.fingerprint       {mbs(t_fp):8.0f} MB/s")
        print(f"  hash_pandas_object       {mbs(t_pd):8.0f} MB/s (on a 10% slice, scaled)")
        print(
            f"  ratio = {t_pd / t_fp:.1f}x; goal >= 100 MB/s: "
            f"{'MET' if mbs(t_fp) >= 100 else 'NOT MET'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.05, help="size of the numeric frame")
    parser.add_argument("--string-rows", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    numeric(args.gb, args.repeat)
    strings(args.string_rows, args.repeat)
    print(f"(best of {args.repeat} runs; hash_pandas_object timed once)")


if __name__ == "__main__":
    main()
