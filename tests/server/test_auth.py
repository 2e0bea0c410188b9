"""Every registered cmlops route refuses a request without Jupyter credentials."""

from __future__ import annotations

import re

import pytest
from tornado.httpclient import HTTPClientError

from cmlops.server.extension import routes


def concrete(pattern: str) -> str:
    """A URL path for a route pattern, with every capture group filled by a plain name."""
    return re.sub(r"\([^)]*\)", "x", pattern)


def all_routes() -> list[tuple[str, str]]:
    found = []
    for pattern, handler in routes():
        for method in ("GET", "POST"):
            if method.lower() in handler.__dict__:
                found.append((method, concrete(pattern)))
    return found


@pytest.mark.req("REQ-SEC-001")
def test_every_route_is_listed():
    paths = {path for _, path in all_routes()}
    for expected in (
        "/status",
        "/head",
        "/lineage",
        "/audit",
        "/verify",
        "/templates",
        "/templates/x",
        "/runs",
        "/runs/x",
        "/files",
        "/plans",
        "/packages",
        "/packages/x",
        "/packages/x/verify",
        "/packages/x/view/x",
        "/models",
        "/models/x",
    ):
        assert expected in paths


@pytest.mark.parametrize(("method", "path"), all_routes())
@pytest.mark.req("REQ-SEC-001")
async def test_route_without_token_is_403(http_server_client, jp_base_url, method, path):
    url = f"{jp_base_url}cmlops/api{path}"
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(
            url, method=method, body="{}" if method == "POST" else None, request_timeout=20
        )
    assert info.value.code == 403


@pytest.mark.parametrize(("method", "path"), all_routes())
@pytest.mark.req("REQ-SEC-001")
async def test_route_with_wrong_token_is_403(http_server_client, jp_base_url, method, path):
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(
            f"{jp_base_url}cmlops/api{path}",
            method=method,
            body="{}" if method == "POST" else None,
            headers={"Authorization": "token wrong"},
            request_timeout=20,
        )
    assert info.value.code == 403


@pytest.mark.req("REQ-SEC-001")
async def test_post_with_cookie_but_no_xsrf_is_403(http_server_client, jp_base_url, jp_serverapp):
    """A browser session (cookie) must also send the XSRF token on POST."""
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}?token={token}", follow_redirects=False, raise_error=False
    )
    cookies = [c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie")]
    assert any(c.startswith("username-") for c in cookies)
    cookie = "; ".join(c for c in cookies if not c.startswith("_xsrf"))
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(
            f"{jp_base_url}cmlops/api/verify",
            method="POST",
            body="{}",
            headers={"Cookie": cookie},
            request_timeout=20,
        )
    assert info.value.code == 403
    xsrf = next(c for c in cookies if c.startswith("_xsrf="))
    ok = await http_server_client.fetch(
        f"{jp_base_url}cmlops/api/verify",
        method="POST",
        body="{}",
        headers={"Cookie": f"{cookie}; {xsrf}", "X-XSRFToken": xsrf.split("=", 1)[1]},
        request_timeout=20,
    )
    assert ok.code == 200
