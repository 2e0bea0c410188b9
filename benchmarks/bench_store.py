"""Audit store speed: durable appends (single and batched), chain verification, Merkle tree.

    .venv/bin/python benchmarks/bench_store.py [--verify-records 1000000] [--no-postgres]

Baselines measured in the same run:
* appends: the same rows inserted with the plain ``sqlite3`` / ``psycopg`` driver
  and the same commit discipline but no hash chain (the database's own limit);
* verify: reading the same rows with the plain driver plus SHA-256 over the same
  canonical bytes (what any verifier must at least do); the incremental verify
  (the records after a head verified earlier, as the server's sidebar does) is
  compared with the full verify of the same chain;
* Merkle tree: reading every record hash with the plain driver plus two SHA-256
  calls per record (a tree of n leaves needs n leaf and n - 1 node hashes).
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from cmlops.store import AuditEvent, open_store  # noqa: E402
from cmlops.store.chain import ROW_FIELDS, canonical_record  # noqa: E402

PAYLOAD = {"entity": "dataset", "rows": 7874, "columns": ["age", "sex", "kappa"], "ok": True}
#: a record context of the usual size (record format 2)
CONTEXT = (
    '{"actor_source":"os","claimed_actor":"","cmlops_version":"0.1.0","host":"lab-7",'
    '"hub_user":"","os_user":"alice","pid":4242,"session":"0b3d3f0e-6a43-4bd3-8f43-9a5a3c0f6f0e"}'
)


def events(count: int, start: int = 0) -> list[AuditEvent]:
    return [
        AuditEvent("bench.append", "entity", f"e{start + i}", {**PAYLOAD, "i": start + i})
        for i in range(count)
    ]


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench_single(store, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        store.append("bench.single", "entity", f"s{i}", {**PAYLOAD, "i": i})
    return rate(count, time.perf_counter() - started)


def bench_batched(store, batches: int, size: int) -> float:
    started = time.perf_counter()
    for b in range(batches):
        store.append_many(events(size, b * size))
    return rate(batches * size, time.perf_counter() - started)


def sqlite_baseline(folder: Path, single: int, batches: int, size: int) -> tuple[float, float]:
    """Same row shape, WAL + synchronous=FULL, one commit per row / per batch, no chain."""
    connection = sqlite3.connect(folder / "plain.sqlite", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"CREATE TABLE t ({', '.join(ROW_FIELDS)})")
    row = ("2026-11-22T10:00:00.000000+00:00", "a", "x", "t", "o", str(PAYLOAD), "", "0", "1")
    row += (CONTEXT,)
    started = time.perf_counter()
    for i in range(single):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)", (i, *row))
        connection.execute("COMMIT")
    single_rate = rate(single, time.perf_counter() - started)
    started = time.perf_counter()
    for b in range(batches):
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(single + b * size + i, *row) for i in range(size)],
        )
        connection.execute("COMMIT")
    batched_rate = rate(batches * size, time.perf_counter() - started)
    connection.close()
    return single_rate, batched_rate


def verify_baseline(store) -> float:
    """Read every row with the raw driver and SHA-256 its canonical bytes: no checks."""
    started = time.perf_counter()
    count = 0
    for row in store._iter_rows():
        hashlib.sha256(row[8].encode() + canonical_record(*row[:9], row[10])).digest()
        count += 1
    return rate(count, time.perf_counter() - started)


def merkle_baseline(store) -> float:
    """Read every hash with the raw driver and do 2 SHA-256 calls per record: no tree."""
    started = time.perf_counter()
    raw = store._engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT hash FROM audit_log ORDER BY seq")
        sha = hashlib.sha256
        for (value,) in cursor.fetchall():
            sha(b"\x01" + sha(b"\x00" + bytes.fromhex(value)).digest() * 2).digest()
    finally:
        raw.close()
    return time.perf_counter() - started


def bench_merkle(store, results: dict) -> None:
    """Build the tree of the whole chain; proofs for 100 records and one consistency proof."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        tree = store.merkle_tree()
        runs.append(time.perf_counter() - started)
    results["merkle_seconds"] = statistics.median(runs)
    size = tree.size
    started = time.perf_counter()
    seqs = range(size - 99, size + 1)
    store.inclusion_proofs(seqs, size)
    results["proofs_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    for seq in seqs:
        tree.inclusion_proof(seq - 1)
    tree.consistency_proof(size // 3)
    results["proofs_in_tree_ms"] = (time.perf_counter() - started) * 1000
    results["merkle_baseline_seconds"] = merkle_baseline(store)
    from cmlops.trust.trail import verify_trail

    started = time.perf_counter()
    assert verify_trail(store).ok
    results["trail_seconds"] = time.perf_counter() - started


def fill_chain(store, total: int) -> None:
    have = store.count_records()
    while have < total:
        size = min(20_000, total - have)
        store.append_many(events(size, have))
        have += size


def measure_backend(name: str, url: str | None, home: Path, args: argparse.Namespace) -> dict:
    store = open_store(url, home=home)
    results = {"backend": name}
    results["single"] = bench_single(store, args.single)
    results["batched"] = bench_batched(store, args.batches, args.batch_size)
    fill_chain(store, args.verify_records)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        outcome = store.verify()
        runs.append(time.perf_counter() - started)
        assert outcome.ok
    results["verify_records"] = outcome.records
    results["verify_seconds"] = statistics.median(runs)
    results["verify"] = rate(outcome.records, results["verify_seconds"])
    results["verify_baseline"] = verify_baseline(store)
    bench_merkle(store, results)
    results["incremental_ms"] = bench_incremental(store, args.new_records)
    store.close()
    return results


def bench_incremental(store, new: int) -> float:
    """Verify only the ``new`` records after a head verified earlier (the sidebar's pass)."""
    verified = store.head()
    store.append_many(events(new, 10**9))
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        outcome = store.verify(since=verified)
        runs.append(time.perf_counter() - started)
        assert outcome.ok and outcome.records == new
    return statistics.median(runs) * 1000


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--verify-records", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--new-records", type=int, default=1000, help="for the incremental verify")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base_single, base_batched = sqlite_baseline(
            folder, args.single, args.batches, args.batch_size
        )
        sqlite = measure_backend("SQLite", None, folder / ".cmlops", args)
        sqlite["single_baseline"], sqlite["batched_baseline"] = base_single, base_batched
        rows.append(sqlite)
        if not args.no_postgres:
            from tests.pg_server import create_database, running_postgres

            with running_postgres() as server:
                url = create_database(server, "bench")
                rows.append(measure_backend("PostgreSQL", url, folder / ".cmlops-pg", args))

    print(
        f"{'backend':<11} {'single/s':>10} {'(no chain)':>11} {'batched/s':>10} "
        f"{'(no chain)':>11} {'verify rec/s':>13} {'records':>9} {'read+sha256/s':>14} "
        f"{'ratio':>6}"
    )
    for r in rows:
        print(
            f"{r['backend']:<11} {r['single']:>10,.0f} {_fmt(r.get('single_baseline')):>11} "
            f"{r['batched']:>10,.0f} {_fmt(r.get('batched_baseline')):>11} "
            f"{r['verify']:>13,.0f} {r['verify_records']:>9,} {r['verify_baseline']:>14,.0f} "
            f"{r['verify'] / r['verify_baseline']:>6.2f}"
        )
    for r in rows:
        ratio = r["incremental_ms"] / 1000 / r["verify_seconds"]
        print(
            f"{r['backend']}: verify of the {args.new_records:,} records after a verified head: "
            f"{r['incremental_ms']:.1f} ms (full verify of {r['verify_records']:,} records: "
            f"{r['verify_seconds']:.2f} s; ratio {ratio:.4f})"
        )
    print(
        f"\n{'backend':<11} {'tree s':>7} {'read+2 sha256 s':>16} {'ratio':>6} "
        f"{'100 proofs (store) s':>21} {'100 proofs + consistency (tree) ms':>35} "
        f"{'audit verify (all checks) s':>28}"
    )
    for r in rows:
        print(
            f"{r['backend']:<11} {r['merkle_seconds']:>7.2f} {r['merkle_baseline_seconds']:>16.2f} "
            f"{r['merkle_seconds'] / r['merkle_baseline_seconds']:>6.2f} "
            f"{r['proofs_seconds']:>21.2f} {r['proofs_in_tree_ms']:>35.2f} "
            f"{r['trail_seconds']:>28.2f}"
        )


if __name__ == "__main__":
    main()
