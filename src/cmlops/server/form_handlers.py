"""REST handlers behind the report form: the file picker and acceptance plans.

``GET files?folder=REL&kind=any|plan`` lists a folder under the Jupyter root for the
picker (:mod:`cmlops.server.file_picker`); ``POST plans`` checks a plan the form
uploads (``{"name", "content"}``, content in base64) or picks (``{"path"}``) and
describes it (:mod:`cmlops.server.plans`). Neither takes an absolute path; both are
authenticated like every route.
"""

from __future__ import annotations

import tornado.web

from cmlops.errors import InvalidInputError
from cmlops.server.base import BaseHandler


class FilesHandler(BaseHandler):
    """One folder of the picker: folders and (plan) files, named relative to the root."""

    def raw_argument(self, name: str, default: str) -> str:
        """A query argument exactly as sent (tornado's ``get_argument`` would quietly turn
        control characters into spaces and strip them: ``data%00`` would become ``data``)."""
        values = self.request.query_arguments.get(name)
        if not values:
            return default
        try:
            return values[-1].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{name} is not UTF-8 text") from None

    @tornado.web.authenticated
    async def get(self) -> None:
        from cmlops.server.file_picker import list_folder

        async def body() -> None:
            folder = self.raw_argument("folder", "")
            kind = self.raw_argument("kind", "any")
            listing = await self.services.read_files(
                list_folder, self.services.root_dir, folder, kind
            )
            self.reply(listing)

        await self.guarded(body())


class PlansHandler(BaseHandler):
    """POST ``{"name", "content"}`` (an upload) or ``{"path"}`` (a pick): the plan, checked."""

    @tornado.web.authenticated
    async def post(self) -> None:
        from cmlops.server.plans import describe_plan, resolve_plan, upload_plan

        async def body() -> None:
            data = self.body_json()
            services = self.services
            if "content" in data:
                described = await services.read_files(
                    upload_plan, services.packages_dir, data.get("name"), data["content"]
                )
            elif "path" in data:
                ref = {"path": data["path"]}
                path = resolve_plan(services.root_dir, services.packages_dir, ref)
                described = await services.read_files(describe_plan, path, ref, str(data["path"]))
            else:
                raise InvalidInputError('send {"name", "content"} to upload a plan or {"path"}')
            self.reply(described)

        await self.guarded(body())
