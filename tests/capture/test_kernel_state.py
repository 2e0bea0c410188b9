"""The public kernel API the JupyterLab extension calls, asked exactly as the frontend asks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.capture.conftest import KERNEL

pytestmark = pytest.mark.kernel

LABEXTENSION = Path(__file__).resolve().parents[2] / "labextension" / "src" / "kernel.ts"


def frontend_expression() -> str:
    """The user expression labextension/src/kernel.ts sends (read from the source)."""
    source = LABEXTENSION.read_text(encoding="utf-8")
    match = re.search(r'const STATE =\s*"([^"]+)";', source)
    assert match, "kernel.ts no longer defines STATE"
    return match.group(1)


@pytest.fixture
def kernel(kernel_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("CMLOPS_HOME", str(tmp_path / ".cmlops"))
    manager, client = start_new_kernel(kernel_name=KERNEL, cwd=str(tmp_path))
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def ask(client, code: str = "") -> object:
    """Run ``code`` and evaluate the frontend's expression silently, as the frontend does."""
    if code:
        reply = client.execute_interactive(code, timeout=60, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
    reply = client.execute_interactive(
        "",
        silent=True,
        store_history=False,
        user_expressions={"state": frontend_expression()},
        timeout=60,
    )
    value = reply["content"]["user_expressions"]["state"]
    assert value["status"] == "ok", value
    if "application/json" in value["data"]:
        assert json.loads(value["data"]["text/plain"]) == value["data"]["application/json"]
    return json.loads(value["data"]["text/plain"].replace("None", "null"))


def test_frontend_reads_the_kernel_state_through_the_public_api(kernel) -> None:
    # a kernel that never imported cmlops is not made to import it
    assert ask(kernel) is None
    assert ask(kernel, "import sys; assert 'cmlops' not in sys.modules") is None
    state = ask(kernel, "import cmlops")
    assert state["loaded"] is False and state["autotrack"] is False
    state = ask(kernel, "%load_ext cmlops")
    assert state["loaded"] is True and state["autotrack"] is False
    assert state["version"] and state["activities_recorded"] == 0
    state = ask(kernel, "%cmlops_autotrack on")
    assert state["autotrack"] is True
    state = ask(kernel, "x = 1")
    assert state["activities_recorded"] >= 1
    state = ask(kernel, "%unload_ext cmlops")
    assert state["loaded"] is False and state["autotrack"] is False


def test_kernel_state_outside_ipython_is_not_loaded() -> None:
    import cmlops

    state = cmlops.kernel_state()
    assert state.loaded is False
    assert json.loads(repr(state)) == state.to_dict()
