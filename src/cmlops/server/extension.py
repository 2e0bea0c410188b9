"""Wiring of the server extension: the one route table, and ``load``.

Every route of the API is listed here, once (relative to
``<base_url>/cmlops/api``); ``tests/server/test_auth.py`` checks that each one
refuses a request without Jupyter credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join

from cmlops.server import form_handlers, handlers, model_handlers, report_handlers
from cmlops.server.base import BaseHandler
from cmlops.server.services import SETTINGS_KEY, CmlopsServer, Services

API_PREFIX = "cmlops/api"

#: every route of the API: (pattern relative to ``<base_url>/cmlops/api``, handler)
ROUTES: list[tuple[str, type[BaseHandler]]] = [
    (r"/status", handlers.StatusHandler),
    (r"/head", handlers.HeadHandler),
    (r"/lineage", handlers.LineageHandler),
    (r"/audit", handlers.AuditHandler),
    (r"/verify", handlers.VerifyHandler),
    (r"/templates", report_handlers.TemplatesHandler),
    (r"/templates/([^/]+)", report_handlers.TemplateHandler),
    (r"/runs", report_handlers.RunsHandler),
    (r"/runs/([^/]+)", report_handlers.RunHandler),
    (r"/files", form_handlers.FilesHandler),
    (r"/plans", form_handlers.PlansHandler),
    (r"/packages", report_handlers.PackagesHandler),
    (r"/packages/([^/]+)", report_handlers.PackageHandler),
    (r"/packages/([^/]+)/verify", report_handlers.PackageVerifyHandler),
    (r"/packages/([^/]+)/view/([^/]+)", report_handlers.PackageViewHandler),
    (r"/models", model_handlers.ModelsHandler),
    (r"/models/([^/]+)", model_handlers.ModelHandler),
]


def routes() -> list[tuple[str, type[BaseHandler]]]:
    """Every route of the API (relative to ``<base_url>/cmlops/api``)."""
    return list(ROUTES)


def load(serverapp: Any) -> None:
    """Register the handlers under ``<base_url>/cmlops/api/``."""
    if SETTINGS_KEY in serverapp.web_app.settings:  # enabled under two names: load once
        return
    config = CmlopsServer(config=serverapp.config)
    root_dir = Path(getattr(serverapp, "root_dir", ".") or ".").expanduser().resolve()
    services = Services(config, root_dir)
    web_app = serverapp.web_app
    web_app.settings[SETTINGS_KEY] = services
    base_url = web_app.settings["base_url"]
    handlers = [
        (url_path_join(base_url, API_PREFIX, pattern), handler) for pattern, handler in routes()
    ]
    web_app.add_handlers(".*$", handlers)
    serverapp.log.info(
        "cmlops: API at %s, store %s",
        url_path_join(base_url, API_PREFIX),
        services.store.describe(),
    )
