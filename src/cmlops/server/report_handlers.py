"""Report handlers: templates and their parameter schemas, runs, audit packages.

Templates are addressed by catalogue name and packages by id inside the
configured packages folder (:mod:`cmlops.server.paths`); nothing here opens a
path the client wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tornado.web

from cmlops.server.base import BaseHandler, NotFound
from cmlops.server.package_views import VIEW_CSP, VIEWS, describe
from cmlops.server.paths import check_template_name, package_folder
from cmlops.server.runs import result_to_dict


def _template_json(template: Any) -> dict[str, Any]:
    data = template.to_dict()
    data.pop("path", None)  # the server's filesystem layout is not the client's business
    return data


class TemplatesHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        from cmlops.reports.catalogue import list_templates

        async def body() -> None:
            templates = await self.services.call(list_templates)
            self.reply({"templates": [_template_json(t) for t in templates]})

        await self.guarded(body())


class TemplateHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        from cmlops.reports.catalogue import describe_template
        from cmlops.reports.errors import TemplateError

        async def body() -> None:
            check_template_name(name)
            try:
                template = await self.services.call(describe_template, name)
            except TemplateError as error:
                raise NotFound(str(error)) from None
            self.reply(_template_json(template))

        await self.guarded(body())


class RunsHandler(BaseHandler):
    """GET: runs of this server, newest first. POST ``{template, parameters, plan?}``: start one.

    The submission is checked field by field first (:mod:`cmlops.server.run_form`); a
    400 reply then names every bad field.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        self.reply({"runs": [run.to_dict() for run in self.services.runs.list()]})

    @tornado.web.authenticated
    async def post(self) -> None:
        async def body() -> None:
            from cmlops.server.run_form import check_submission

            data = self.body_json()
            services = self.services
            checked = await services.read_files(
                check_submission,
                services.root_dir,
                services.packages_dir,
                data.get("template", ""),
                data.get("parameters") or {},
                data.get("plan"),
            )
            self.reply(services.runs.start(checked).to_dict(), 202)

        await self.guarded(body())


class RunHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        async def body() -> None:
            run = self.services.runs.get(run_id)
            if run is None:
                raise NotFound(f"no report run {run_id!r} on this server")
            self.reply(run.to_dict())

        await self.guarded(body())


class PackagesHandler(BaseHandler):
    """GET: the newest packages, each verified as it is now (see ``package_views``)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        services = self.services

        def listing() -> list[dict[str, Any]]:
            base = services.packages_dir
            if not base.is_dir():
                return []
            folders = [
                p
                for p in base.iterdir()
                if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
            ]
            folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
            return [describe(p, services.package_views) for p in folders[:200]]

        async def body() -> None:
            self.reply({"packages": await services.read_files(listing)})

        await self.guarded(body())


def _existing(services: Any, package_id: str) -> Path:
    folder = package_folder(services.packages_dir, package_id)
    if not folder.is_dir():
        raise NotFound(f"no audit package {package_id!r}")
    return folder


class PackageHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, package_id: str) -> None:
        async def body() -> None:
            folder = _existing(self.services, package_id)
            views = self.services.package_views
            self.reply(await self.services.read_files(describe, folder, views))

        await self.guarded(body())


class PackageViewHandler(BaseHandler):
    """GET ``/packages/<id>/view/<report|notebook>``: a read-only page of the package.

    Served as HTML under :data:`~cmlops.server.package_views.VIEW_CSP`, which
    sandboxes it (opaque origin, no network); nothing is ever written.
    """

    @property
    def content_security_policy(self) -> str:
        return VIEW_CSP

    @tornado.web.authenticated
    async def get(self, package_id: str, view: str) -> None:
        async def body() -> None:
            if view not in VIEWS:
                raise NotFound(f"no view {view!r}: one of {', '.join(VIEWS)}")
            folder = _existing(self.services, package_id)
            views = self.services.package_views
            page = await self.services.read_files(views.page, folder, view)
            if page is None:
                raise NotFound(f"package {package_id!r} has no {view}")
            self.set_header("Cache-Control", "no-store")
            self.finish(page, set_content_type="text/html; charset=utf-8")

        await self.guarded(body())


class PackageVerifyHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, package_id: str) -> None:
        from cmlops.reports.verify import verify_package

        async def body() -> None:
            folder = _existing(self.services, package_id)
            verdict = await self.services.read_files(verify_package, folder)
            self.reply(result_to_dict(verdict))

        await self.guarded(body())
