"""The report form's server side: the file picker lists only under the root, plans are
uploaded or picked and checked like --plan, and a submission names each bad field."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import time
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

PLAN = """plan_id: form-plan-v1
title: Data set is usable
criteria:
  - {id: has-rows, metric: rows, op: ">=", threshold: 1}
  - {id: no-failed-checks, metric: failed_checks, op: "<=", threshold: 0}
"""


def body(response) -> dict:
    return json.loads(response.body)


async def api(jp_fetch, *parts, **kwargs) -> tuple[int, dict]:
    """Status and JSON body of a request, error replies included."""
    try:
        response = await jp_fetch("cmlops", "api", *parts, **kwargs)
    except HTTPClientError as error:
        return error.code, json.loads(error.response.body or b"{}")
    return response.code, body(response)


def files(jp_fetch, folder: str = "", kind: str = "any"):
    return api(jp_fetch, "files", params={"folder": folder, "kind": kind})


def post(jp_fetch, endpoint: str, payload: dict):
    return api(jp_fetch, endpoint, method="POST", body=json.dumps(payload))


@pytest.fixture
def tree(jp_root_dir: Path, tmp_path: Path) -> Path:
    """A root with data, plans, hidden things, a FIFO and symlinks in and out."""
    root = Path(jp_root_dir)
    (root / "data").mkdir()
    (root / "data" / "patients.csv").write_text("id,age\n1,40\n2,50\n")
    (root / "data" / "Notes.txt").write_text("x")
    (root / "plans").mkdir()
    (root / "plans" / "accept.yaml").write_text(PLAN)
    (root / "plans" / "readme.md").write_text("x")
    (root / ".hidden.yaml").write_text(PLAN)
    (root / ".cmlops-like").mkdir()
    (root / ".cmlops-like" / "secret.yaml").write_text(PLAN)
    os.mkfifo(root / "data" / "pipe.csv")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd.yaml").write_text(PLAN)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "escape.yaml").symlink_to(outside / "passwd.yaml")
    (root / "into-hidden").symlink_to(root / ".cmlops-like", target_is_directory=True)
    (root / "broken.csv").symlink_to(root / "nowhere.csv")
    (root / "data-link").symlink_to(root / "data", target_is_directory=True)
    return root


@pytest.mark.req("REQ-SEC-002")
async def test_picker_lists_only_what_may_be_picked(jp_fetch, tree):
    code, listing = await files(jp_fetch)
    assert code == 200
    names = [(e["name"], e["type"]) for e in listing["entries"]]
    # folders first; nothing hidden, no link out of the root or into a hidden folder
    assert names == [
        ("cmlops-packages", "folder"),
        ("data", "folder"),
        ("data-link", "folder"),
        ("plans", "folder"),
    ]
    assert listing["folder"] == "" and listing["parent"] is None
    code, data = await files(jp_fetch, "data")
    entries = {e["name"]: e for e in data["entries"]}
    assert set(entries) == {"Notes.txt", "patients.csv"}  # the FIFO is left out
    assert entries["patients.csv"]["path"] == "data/patients.csv"
    assert entries["patients.csv"]["size"] == len("id,age\n1,40\n2,50\n")
    assert data["parent"] == ""
    assert all(not e["path"].startswith("/") for e in data["entries"])
    assert str(tree) not in json.dumps(data)  # never a server path
    code, plans = await files(jp_fetch, "plans", "plan")
    assert [e["name"] for e in plans["entries"]] == ["accept.yaml"]
    code, linked = await files(jp_fetch, "data-link")  # a link inside the root is followed
    assert code == 200 and {e["path"] for e in linked["entries"]} == {
        "data-link/Notes.txt",
        "data-link/patients.csv",
    }


@pytest.mark.parametrize(
    "folder",
    [
        "..",
        "../",
        "data/../..",
        "/etc",
        "/",
        "\\..\\x",
        "C:/Windows",
        "data\x00",
        ".cmlops-like",
        "data/.git",
        "escape",
        "into-hidden",
        "missing",
        "data/patients.csv",
        "x" * 2000,
    ],
)
@pytest.mark.req("REQ-SEC-002")
async def test_picker_refuses_paths_out_of_the_root(jp_fetch, tree, folder):
    code, reply = await files(jp_fetch, folder)
    assert code == 400, reply
    message = reply["error"]["message"]
    assert "\n" not in message and str(tree.parent) not in message


async def test_picker_refuses_an_unknown_kind(jp_fetch, tree):
    code, reply = await files(jp_fetch, "", "exe")
    assert code == 400 and "kind" in reply["error"]["message"]


async def test_uploaded_plan_is_checked_kept_read_only_and_named_by_its_digest(
    jp_fetch, tree, packages_dir
):
    content = base64.b64encode(PLAN.encode()).decode()
    code, plan = await post(jp_fetch, "plans", {"name": "accept.yaml", "content": content})
    assert code == 200, plan
    assert plan["plan_id"] == "form-plan-v1" and len(plan["criteria"]) == 2
    stored = packages_dir / ".plans" / plan["ref"]["upload"]
    assert stored.read_text() == PLAN
    assert stored.name == f"{plan['raw_sha256']}.yaml"
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    again = await post(jp_fetch, "plans", {"name": "copy.yaml", "content": content})
    assert again[1]["ref"] == plan["ref"]
    listed = body(await jp_fetch("cmlops", "api", "packages"))["packages"]
    assert all(p["id"] != ".plans" for p in listed)  # the plans folder is not a package


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"name": "p.yaml", "content": "not base64!"}, "base64"),
        ({"name": "../p.yaml", "content": ""}, "plain file name"),
        ({"name": "p.txt", "content": ""}, ".yaml"),
        ({"name": "p.yaml", "content": 42}, "base64"),
        ({"name": "p.json", "text": "{}"}, "upload a plan"),
        ({"name": "p.yaml", "raw": PLAN.replace("threshold: 1}", "threshold: .nan}")}, "finite"),
        ({"name": "p.yaml", "raw": "plan_id: x\ncriteria: !!python/object:os.system {}"}, "YAML"),
        ({"name": "p.yaml", "raw": PLAN.replace("threshold: 1}", 'threshold: "1"}')}, "numeric"),
        (
            {
                "name": "p.json",
                "raw": '{"criteria": [{"id": "a", "metric": "rows", '
                '"op": ">=", "threshold": NaN}]}',
            },
            "not valid",
        ),
        ({"name": "p.yaml", "raw": "x" * (1024 * 1024 + 1)}, "larger"),
    ],
)
async def test_bad_uploads_are_one_line_errors_and_keep_nothing(
    jp_fetch, tree, packages_dir, payload, fragment
):
    if "raw" in payload:
        payload = {
            "name": payload["name"],
            "content": base64.b64encode(payload["raw"].encode()).decode(),
        }
    code, reply = await post(jp_fetch, "plans", payload)
    assert code == 400, reply
    message = reply["error"]["message"]
    assert fragment in message and "\n" not in message
    assert (
        not list((packages_dir / ".plans").glob("*"))
        if (packages_dir / ".plans").exists()
        else True
    )


async def test_picked_plan_is_described(jp_fetch, tree):
    code, plan = await post(jp_fetch, "plans", {"path": "plans/accept.yaml"})
    assert code == 200 and plan["ref"] == {"path": "plans/accept.yaml"}
    assert plan["plan_id"] == "form-plan-v1"


@pytest.mark.parametrize(
    "path",
    [
        "../outside/passwd.yaml",
        "/etc/passwd",
        "escape.yaml",  # a link out of the root
        "escape/passwd.yaml",
        ".hidden.yaml",
        "into-hidden/secret.yaml",
        "data/patients.csv",  # not a plan file
        "data/pipe.csv",
        "plans/missing.yaml",
        "plans",
    ],
)
@pytest.mark.req("REQ-SEC-002")
async def test_picked_plans_out_of_the_root_or_odd_are_refused(jp_fetch, tree, path):
    code, reply = await post(jp_fetch, "plans", {"path": path})
    assert code == 400, reply
    assert "\n" not in reply["error"]["message"]


async def test_a_fifo_named_as_plan_never_blocks(jp_fetch, tree):
    os.mkfifo(tree / "plans" / "pipe.yaml")
    code, reply = await asyncio.wait_for(post(jp_fetch, "plans", {"path": "plans/pipe.yaml"}), 20)
    assert code == 400 and "regular file" in reply["error"]["message"]


async def test_a_submission_names_every_bad_field(jp_fetch, tree):
    code, reply = await post(
        jp_fetch,
        "runs",
        {
            "template": "data_validation",
            "parameters": {"reference": "../x.csv", "schema": "data/pipe.csv"},
            "plan": {"path": "escape.yaml"},
        },
    )
    assert code == 400
    fields = reply["error"]["fields"]
    assert set(fields) == {"data", "reference", "schema", "cmlops_plan"}
    assert fields["data"] == "required"
    assert "'..'" in fields["reference"]
    assert "regular file" in fields["schema"]
    assert "outside" in fields["cmlops_plan"]
    assert "(and 3 more field(s))" in reply["error"]["message"]
    assert body(await jp_fetch("cmlops", "api", "runs"))["runs"] == []
    code, reply = await post(
        jp_fetch,
        "runs",
        {
            "template": "data_validation",
            "parameters": {"data": "data/patients.csv"},
            "plan": {"upload": "../../etc/passwd"},
        },
    )
    assert code == 400 and set(reply["error"]["fields"]) == {"cmlops_plan"}


async def test_field_errors_name_paths_relative_to_the_root(jp_fetch, tree):
    """A missing input is named as the form gave it, never by the server's absolute path."""
    code, reply = await post(
        jp_fetch,
        "runs",
        {"template": "data_validation", "parameters": {"data": "data/missing.csv"}},
    )
    assert code == 400
    error = reply["error"]
    assert "input file not found: data/missing.csv" in error["fields"]["data"]
    assert str(tree.resolve()) not in json.dumps(error)


async def test_dataset_fields_stay_under_the_root_and_tables_are_plain_names(jp_fetch, tree):
    """A dataset file or folder is confined like a path; table:NAME is a name, never SQL."""
    code, reply = await post(
        jp_fetch,
        "runs",
        {
            "template": "drift_report",
            "parameters": {"reference": "/etc", "current": "table:x;drop table y"},
        },
    )
    assert code == 400
    fields = reply["error"]["fields"]
    assert set(fields) == {"reference", "current"}
    assert "is not a table name" in fields["current"]
    assert body(await jp_fetch("cmlops", "api", "runs"))["runs"] == []


@pytest.mark.kernel
async def test_a_run_with_an_uploaded_plan_shows_its_verdict(
    jp_fetch, tree, packages_dir, store_home
):
    raw = PLAN.replace("threshold: 1}", "threshold: 1000}")  # more rows than there are: FAIL
    content = base64.b64encode(raw.encode()).decode()
    _code, plan = await post(jp_fetch, "plans", {"name": "strict.yaml", "content": content})
    code, run = await post(
        jp_fetch,
        "runs",
        {
            "template": "data_validation",
            "parameters": {"data": "data/patients.csv", "reference": "data/patients.csv"},
            "plan": plan["ref"],
        },
    )
    assert code == 202 and run["plan"] == "form-plan-v1"
    deadline = time.monotonic() + 240
    while run["status"] in ("queued", "running") and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        run = body(await jp_fetch("cmlops", "api", "runs", run["id"]))
    assert run["status"] == "succeeded", (run["error"], run["message"])
    assert run["verdict"] == "FAIL"
    packages = body(await jp_fetch("cmlops", "api", "packages"))["packages"]
    package = next(p for p in packages if p["id"] == run["package_id"])
    assert package["verdict"] == "FAIL" and package["verified"] is True
    manifest = json.loads((packages_dir / run["package_id"] / "manifest.json").read_text())
    assert manifest["plan"]["raw_sha256"] == plan["raw_sha256"]
    assert manifest["plan"]["source"] == str(packages_dir / ".plans" / plan["ref"]["upload"])
