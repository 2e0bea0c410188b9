"""Report handlers: templates by name, runs in the background, packages by id only."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from cmlops.store import open_store


def body(response) -> dict:
    return json.loads(response.body)


async def status_of(jp_fetch, *parts, **kwargs) -> int:
    try:
        response = await jp_fetch(*parts, **kwargs)
    except HTTPClientError as error:
        return error.code
    return response.code


async def test_templates_listed_without_server_paths(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "templates"))
    names = {t["name"] for t in data["templates"]}
    assert {"data_validation", "drift_report", "model_validation"} <= names
    assert all("path" not in t for t in data["templates"])


async def test_template_parameter_schema(jp_fetch):
    data = body(await jp_fetch("cmlops", "api", "templates", "data_validation"))
    params = {p["name"]: p for p in data["parameters"]}
    assert params["data"]["type"] == "dataset" and params["data"]["required"] is True
    assert params["schema"]["type"] == "path"
    assert "path" not in data


async def test_unknown_template_is_404(jp_fetch):
    assert await status_of(jp_fetch, "cmlops", "api", "templates", "nope") == 404


@pytest.mark.parametrize(
    "name",
    ["..", "../etc", "/etc/passwd", "data_validation.ipynb", "..\\x", ".hidden", "a b"],
)
@pytest.mark.req("REQ-SEC-002")
async def test_template_names_that_are_paths_are_refused(jp_fetch, name):
    # jp_fetch url-escapes the part, so '/' arrives as %2F inside one path segment.
    code = await status_of(jp_fetch, "cmlops", "api", "templates", name)
    assert code in (400, 404)


@pytest.mark.parametrize("package_id", ["..", "../../etc", "/etc", ".", "x/../../y"])
@pytest.mark.req("REQ-SEC-002")
async def test_package_ids_that_are_paths_are_refused(jp_fetch, package_id):
    assert await status_of(jp_fetch, "cmlops", "api", "packages", package_id) in (400, 404)
    code = await status_of(
        jp_fetch, "cmlops", "api", "packages", package_id, "verify", method="POST", body="{}"
    )
    assert code in (400, 404)


@pytest.mark.req("REQ-SEC-002")
async def test_symlink_out_of_packages_folder_is_refused(jp_fetch, packages_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (packages_dir / "escape").symlink_to(outside, target_is_directory=True)
    assert await status_of(jp_fetch, "cmlops", "api", "packages", "escape") == 400


async def test_unknown_package_is_404(jp_fetch):
    assert await status_of(jp_fetch, "cmlops", "api", "packages", "missing") == 404


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        ({"template": "data_validation", "parameters": {}}, "data"),
        ({"template": "data_validation", "parameters": {"data": "../x.csv"}}, "'..'"),
        ({"template": "data_validation", "parameters": {"data": "/etc/passwd"}}, "relative"),
        ({"template": "data_validation", "parameters": {"dta": "x.csv"}}, "did you mean"),
        ({"template": "../data_validation", "parameters": {}}, "catalogue name"),
        ({"template": "data_validation", "parameters": [1]}, "JSON object"),
    ],
)
async def test_bad_run_requests_are_400(jp_fetch, payload, fragment):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("cmlops", "api", "runs", method="POST", body=json.dumps(payload))
    assert info.value.code == 400
    assert fragment in body(info.value.response)["error"]["message"]


async def test_unknown_run_is_404(jp_fetch):
    assert await status_of(jp_fetch, "cmlops", "api", "runs", "nope") == 404


@pytest.mark.kernel
async def test_report_run_in_background_to_verified_package(
    jp_fetch, jp_root_dir, packages_dir, store_home
):
    rows = ["id,age,arm"] + [f"{i},{40 + i % 30},{'AB'[i % 2]}" for i in range(40)]
    (Path(jp_root_dir) / "patients.csv").write_text("\n".join(rows) + "\n")
    started = await jp_fetch(
        "cmlops",
        "api",
        "runs",
        method="POST",
        body=json.dumps(
            {
                "template": "data_validation",
                "parameters": {"data": "patients.csv", "reference": "patients.csv"},
            }
        ),
    )
    assert started.code == 202
    run = body(started)
    assert run["status"] in ("queued", "running")
    deadline = time.monotonic() + 240
    while run["status"] in ("queued", "running") and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        run = body(await jp_fetch("cmlops", "api", "runs", run["id"]))
    assert run["status"] == "succeeded", (run["error"], run["message"])
    assert run["verified"] is True and run["progress"] == 1.0
    listed = body(await jp_fetch("cmlops", "api", "runs"))["runs"]
    assert [r["id"] for r in listed] == [run["id"]]
    packages = body(await jp_fetch("cmlops", "api", "packages"))["packages"]
    package = next(p for p in packages if p["id"] == run["package_id"])
    assert package["views"] == ["report", "notebook"] and package["verified"] is True
    assert package["status"] == "EXECUTED" and "notebook" not in str(package.get("path", ""))
    verdict = body(
        await jp_fetch(
            "cmlops", "api", "packages", run["package_id"], "verify", method="POST", body="{}"
        )
    )
    assert verdict["ok"] is True
    with open_store(home=store_home) as store:
        assert store.count_records(action="package.created") == 1
    # A modified package no longer verifies.
    (packages_dir / run["package_id"] / "report.html").write_text("tampered")
    verdict = body(
        await jp_fetch(
            "cmlops", "api", "packages", run["package_id"], "verify", method="POST", body="{}"
        )
    )
    assert verdict["ok"] is False and verdict["modified"]
    packages = body(await jp_fetch("cmlops", "api", "packages"))["packages"]
    package = next(p for p in packages if p["id"] == run["package_id"])
    assert package["verified"] is False and package["problem"] == "modified: report.html"
