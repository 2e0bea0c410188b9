"""A real ``jupyter lab`` (subprocess, loopback, random port, token) and headless Chromium.

The lab serves the prebuilt extension from ``src/cmlops/labextension`` (built by
``npm run build:prod``) through ``extra_labextensions_path`` and loads the
server extension ``cmlops.server``, so these tests need neither an install nor
a network. Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chromium import chromium

REPO = Path(__file__).resolve().parents[2]
PREBUILT = REPO / "src" / "cmlops" / "labextension"
ARTIFACTS = REPO / "test-artifacts"


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    home: Path
    process: subprocess.Popen

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(url: str, token: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(
                f"{url}api/status", headers={"Authorization": f"token {token}"}
            )
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"jupyter lab did not start in 90 s:\n{log.read_text()[-3000:]}")


def start_lab(
    base: Path,
    extra_env: dict[str, str] | None = None,
    poll_seconds: float = 0.5,
    *,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    from_wheel: bool = False,
) -> Lab:
    """Start ``jupyter lab`` on a free loopback port with a fresh config, token and store.

    By default the extension comes from the source tree (``cmlops.server`` on PYTHONPATH,
    the prebuilt frontend via ``extra_labextensions_path``); ``from_wheel`` relies on what
    an installed wheel put in ``share/`` and ``etc/`` of ``python``'s environment.
    """
    if not from_wheel and not (PREBUILT / "package.json").is_file():
        raise RuntimeError("prebuilt extension missing: run `npm ci && npm run build:prod` first")
    root = base / "root"
    root.mkdir(parents=True)
    home = root / ".cmlops"
    config_dir = base / "config"
    config_dir.mkdir()
    labext = base / "labextensions"
    labext.mkdir()
    if not from_wheel:
        (labext / "cmlops").symlink_to(PREBUILT, target_is_directory=True)
    settings = base / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port = _free_port()
    token = secrets.token_hex(24)
    config = {
        "ServerApp": {
            "allow_root": True,
            "ip": "127.0.0.1",
            "port": port,
            "port_retries": 0,
            "open_browser": False,
            "root_dir": str(root),
        },
        "IdentityProvider": {"token": token},
        "LabApp": {
            "expose_app_in_browser": True,
            "user_settings_dir": str(base / "settings"),
            "workspaces_dir": str(base / "workspaces"),
            "extra_labextensions_path": [str(labext)],
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        },
        "CmlopsServer": {"poll_seconds": poll_seconds},
    }
    if not from_wheel:
        config["ServerApp"]["jpserver_extensions"] = {"cmlops": True}
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {
        **(os.environ if env is None else env),
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "CMLOPS_HOME": str(home),
        "JUPYTERHUB_USER": "e2e-tester",  # the actor (a hub user); CMLOPS_USER is only a claim
        **(extra_env or {}),
    }
    if not from_wheel:
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH", "")])
        )
    log = base / "lab.log"
    process = subprocess.Popen(
        [python, "-m", "jupyterlab"],
        cwd=root,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_ready(url, token, process, log)
    except BaseException:
        stop_lab(process)
        raise
    return Lab(url, token, root, home, process)


def stop_lab(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# Package scope, not session: Playwright's sync API keeps an event loop running in
# this thread while it is open, which would break every later test that runs a loop
# of its own (jupyter_server's test fixtures, nbclient, other Playwright users).
@pytest.fixture(scope="package")
def lab(tmp_path_factory) -> Lab:
    server = start_lab(tmp_path_factory.mktemp("lab"))
    yield server
    stop_lab(server.process)


@pytest.fixture(scope="package")
def browser():
    with chromium() as launched:
        yield launched


def open_lab(browser, lab: Lab, path: str = ""):
    """A new page with JupyterLab loaded (optionally a document open) and the app started."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    page = context.new_page()
    target = f"{lab.url}lab/tree/{path}" if path else f"{lab.url}lab"
    # ``reset``: a fresh layout, not the tabs an earlier test left open in the shared
    # server's workspace (they would start kernels and could take the focus).
    page.goto(f"{target}?reset&token={lab.token}")
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("window.jupyterapp.started")
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    if path:  # commands act on the current widget: wait until it is this document
        page.wait_for_function(
            "(path) => { const w = window.jupyterapp.shell.currentWidget;"
            " return !!w && !!w.context && w.context.path === path; }",
            arg=path,
            timeout=60_000,
        )
    return page


@pytest.fixture
def page(browser, lab):
    page = open_lab(browser, lab)
    yield page
    page.context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(target))
    return target
