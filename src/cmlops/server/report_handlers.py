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
    """GET: runs of this server, newest first. POST ``{template, parameters}``: start one."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.reply({"runs": [run.to_dict() for run in self.services.runs.list()]})

    @tornado.web.authenticated
    async def post(self) -> None:
        async def body() -> None:
            data = self.body_json()
            template = check_template_name(str(data.get("template", "")))
            parameters = data.get("parameters") or {}
            if not isinstance(parameters, dict):
                from cmlops.errors import InvalidInputError

                raise InvalidInputError("parameters must be a JSON object")
            run = await self.services.call(self.services.runs.start, template, parameters)
            self.reply(run.to_dict(), 202)

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


def _open_path(root: Path, file: Path) -> str:
    """The path JupyterLab opens ``file`` by (relative to its root), or '' if outside it."""
    try:
        return file.resolve().relative_to(root).as_posix()
    except ValueError:
        return ""


def _package_json(root: Path, folder: Path) -> dict[str, Any]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    notebooks = [p for p in files if p.suffix == ".ipynb"]
    html = [p for p in files if p.suffix in {".html", ".htm"}]
    return {
        "id": folder.name,
        "modified": folder.stat().st_mtime,
        "files": len(files),
        "notebook": _open_path(root, notebooks[0]) if notebooks else "",
        "html": _open_path(root, html[0]) if html else "",
    }


class PackagesHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        services = self.services

        def listing() -> list[dict[str, Any]]:
            base = services.packages_dir
            if not base.is_dir():
                return []
            folders = [p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]
            folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
            return [_package_json(services.root_dir, p) for p in folders[:200]]

        async def body() -> None:
            self.reply({"packages": await services.call(listing)})

        await self.guarded(body())


class PackageHandler(BaseHandler):
    @tornado.web.authenticated
    async def get(self, package_id: str) -> None:
        async def body() -> None:
            folder = package_folder(self.services.packages_dir, package_id)
            if not folder.is_dir():
                raise NotFound(f"no audit package {package_id!r}")
            self.reply(await self.services.call(_package_json, self.services.root_dir, folder))

        await self.guarded(body())


class PackageVerifyHandler(BaseHandler):
    @tornado.web.authenticated
    async def post(self, package_id: str) -> None:
        from cmlops.reports.verify import verify_package

        async def body() -> None:
            folder = package_folder(self.services.packages_dir, package_id)
            if not folder.is_dir():
                raise NotFound(f"no audit package {package_id!r}")
            verdict = await self.services.call(verify_package, folder)
            self.reply(result_to_dict(verdict))

        await self.guarded(body())
