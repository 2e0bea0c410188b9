"""A separate process that appends to a store: used by the concurrency and crash tests."""

from __future__ import annotations

import sys

from cmlops.store import Activity, AuditEvent, Entity, Generated, LineageBatch, open_store


def main(url: str, home: str, name: str, mode: str, count: int) -> None:
    store = open_store(url, home=home)
    if mode == "single":
        for i in range(count):
            store.append("test.append", "writer", f"{name}:{i}", {"writer": name, "i": i})
    elif mode == "lineage":
        for i in range(count):
            store.record_lineage(
                LineageBatch(
                    entities=[Entity(f"{name}-e{i}", "dataset", fingerprint=str(i))],
                    activities=[Activity(f"{name}-a{i}", "cell", notebook=f"{name}.ipynb")],
                    generated=[Generated(f"{name}-e{i}", f"{name}-a{i}")],
                )
            )
    elif mode == "forever":  # batches of 50 until killed
        i = 0
        while True:
            store.append_many(
                [AuditEvent("test.batch", "writer", f"{name}:{i}:{j}", {"j": j}) for j in range(50)]
            )
            i += 1
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
