"""The sidebar's verify runs from the last verified head; a full verify still finds old edits."""

from __future__ import annotations

import json
import sqlite3

from cmlops.store import open_store


def body(response) -> dict:
    return json.loads(response.body.decode())


def tamper(database, statement: str) -> None:
    connection = sqlite3.connect(database)
    for (name,) in connection.execute("select name from sqlite_master where type='trigger'"):
        connection.execute(f'drop trigger "{name}"')
    connection.execute(statement)
    connection.commit()
    connection.close()


async def verify(jp_fetch, full: bool | None = None, query: dict | None = None) -> dict:
    payload = "{}" if full is None else json.dumps({"full": full})  # as the sidebar sends it
    reply = await jp_fetch(
        "cmlops", "api", "verify", method="POST", body=payload, params=query or {}
    )
    return body(reply)


async def test_verify_is_incremental_after_the_first_and_full_on_demand(jp_fetch, store_home):
    first = await verify(jp_fetch)
    assert first["ok"] and first["mode"] == "full" and first["verified_from"] is None
    head = first["head"]
    with open_store(home=store_home) as store:
        for i in range(5):
            store.append("note.added", "note", f"n{i}", {"i": i})
    second = await verify(jp_fetch)
    assert second["ok"] and second["mode"] == "incremental" and second["records"] == 5
    assert second["verified_from"] == head and second["head"]["seq"] == head["seq"] + 5
    assert "full verify re-checks them" in second["summary"]

    # an edit *before* the last verified head: the incremental pass cannot see it ...
    tamper(store_home / "store.sqlite", "update audit_log set reason = 'edited' where seq = 2")
    third = await verify(jp_fetch)
    assert third["ok"] and third["mode"] == "incremental" and third["records"] == 0
    # ... the full verify does, and names the record (the sidebar's "Full verify" button)
    assert (await verify(jp_fetch, full=False))["mode"] == "incremental"
    full = await verify(jp_fetch, full=True)
    assert not full["ok"] and full["mode"] == "full" and full["broken"]["seq"] == 2
    assert full["broken"]["record"]["reason"] == "edited"
    # after a failure the next verify is a full one again
    again = await verify(jp_fetch)
    assert again["mode"] == "full" and not again["ok"]


async def test_full_on_demand_by_query_string(jp_fetch, store_home):
    assert (await verify(jp_fetch))["mode"] == "full"
    assert (await verify(jp_fetch))["mode"] == "incremental"
    assert (await verify(jp_fetch, query={"full": "1"}))["mode"] == "full"


async def test_a_rewritten_head_is_caught_by_the_incremental_verify(jp_fetch, store_home):
    first = await verify(jp_fetch)
    seq = first["head"]["seq"]
    tamper(
        store_home / "store.sqlite", f"update audit_log set hash = '{'e' * 64}' where seq = {seq}"
    )
    second = await verify(jp_fetch)
    assert not second["ok"] and second["broken"]["seq"] == seq
    assert "rewritten" in second["broken"]["reason"]
