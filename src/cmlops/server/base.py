"""What every cmlops REST handler shares: the services, JSON replies, errors as HTTP.

Every handler is a Jupyter ``APIHandler`` with ``@tornado.web.authenticated``,
so Jupyter's token/cookie auth and XSRF check apply (no token: 403). Errors
come back as ``{"error": {"message", "fix"?, "fields"?}}``: 400 for bad input (with
``fields``, the error of each named form field), 404 for unknown names, 503 when
the store is unavailable.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler

from cmlops.errors import InvalidInputError
from cmlops.server.services import SETTINGS_KEY
from cmlops.server.storeaccess import StoreUnavailable


class NotFound(Exception):
    """A named thing (template, run, package) does not exist."""


class BaseHandler(APIHandler):
    """Shared helpers: services, JSON replies, error mapping."""

    @property
    def services(self) -> Any:
        return self.settings[SETTINGS_KEY]

    def reply(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, allow_nan=False, default=str))

    def fail(
        self, status: int, message: str, fix: str = "", fields: dict[str, str] | None = None
    ) -> None:
        error: dict[str, Any] = {"message": message}
        if fix:
            error["fix"] = fix
        if fields:
            error["fields"] = fields
        self.reply({"error": error}, status)

    async def store(self, function: Any) -> Any:
        """Run ``function(store)`` on the store thread."""
        return await self.services.call(self.services.store.run, function)

    async def guarded(self, coroutine: Any) -> None:
        """Await the handler body and map cmlops errors to HTTP replies."""
        try:
            await coroutine
        except StoreUnavailable as error:
            self.reply({"error": error.advice}, 503)
        except NotFound as error:
            self.fail(404, str(error))
        except InvalidInputError as error:
            fields = getattr(error, "fields", None)  # a form's errors, one per field
            self.fail(400, (str(error).splitlines() or ["bad input"])[0], fields=fields)

    def body_json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError as error:
            raise InvalidInputError(f"request body is not JSON: {error.msg}") from None
        if not isinstance(data, dict):
            raise InvalidInputError("request body must be a JSON object")
        return data

    def int_argument(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInputError(f"{name}={raw!r} is not an integer") from None
        if not low <= value <= high:
            raise InvalidInputError(f"{name}={value} is out of range [{low}, {high}]")
        return value
