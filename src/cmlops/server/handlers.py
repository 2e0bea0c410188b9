"""REST handlers of the store under ``/cmlops/api/``: status, head, lineage, audit, verify.

Store work runs on the store thread (see :class:`cmlops.server.services.Services`);
authentication and error mapping are :class:`cmlops.server.base.BaseHandler`'s.
"""

from __future__ import annotations

import json
from typing import Any

import tornado.web

from cmlops.server.base import BaseHandler, NotFound
from cmlops.server.storeaccess import StoreUnavailable


class StatusHandler(BaseHandler):
    """Version, store summary or the error with its fix; never fails because of the store."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from cmlops._version import __version__

        services = self.services
        out: dict[str, Any] = {
            "version": __version__,
            "poll_seconds": services.config.poll_seconds,
            "store": None,
            "error": None,
        }
        try:
            out["store"] = await self.store(lambda store: store.info())
        except StoreUnavailable as error:
            out["error"] = error.advice
        self.reply(out)


class HeadHandler(BaseHandler):
    """The chain head only: cheap enough to poll every second for changes."""

    @tornado.web.authenticated
    async def get(self) -> None:
        async def body() -> None:
            head = await self.store(lambda store: store.head())
            self.reply({"seq": head.seq, "hash": head.hash} if head else {"seq": 0, "hash": ""})

        await self.guarded(body())


class LineageHandler(BaseHandler):
    """Lineage of a notebook (``?notebook=``), an entity (``?entity=``) or everything."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from cmlops.server.lineage import graph_to_json

        # Several ``notebook`` values: a notebook renamed in this session is shown with the
        # lineage recorded under its earlier names.
        notebooks = [n for n in self.get_arguments("notebook") if n][:8]
        notebook = "\n".join(notebooks)
        entity = self.get_argument("entity", "")
        root = self.services.root_dir

        def query(store: Any) -> str:
            head = store.head()
            key = (notebook, entity, head.hash if head else "")
            cached = self.services.lineage_cache.get(key)
            if cached is not None:
                return cached
            if entity:
                if store.get_entity(entity) is None:
                    raise NotFound(f"no entity {entity!r} in the store")
                graph = store.ancestors(entity)
                graph.merge(store.descendants(entity))
            elif notebook:
                # Kernels record the notebook by its API path or its absolute path.
                paths = tuple(dict.fromkeys(p for n in notebooks for p in (n, str(root / n))))
                graph, head = self.services.notebook_graphs.graph(store, paths)
                key = (notebook, entity, head.hash if head else "")
            else:
                graph = store.lineage_graph()
            out = graph_to_json(graph)
            out["head_seq"] = head.seq if head else 0
            text = json.dumps(out, allow_nan=False, default=str)
            self.services.lineage_cache.put(key, text)
            return text

        async def body() -> None:
            text = await self.store(query)
            self.set_header("Content-Type", "application/json")
            self.finish(text)

        await self.guarded(body())


class AuditHandler(BaseHandler):
    """Audit records, newest first, filtered and paged; each named and grouped by activity
    (:mod:`cmlops.server.audit_view`)."""

    FILTERS = ("actor", "action", "object_type", "object_id", "since", "until")

    @tornado.web.authenticated
    async def get(self) -> None:
        async def body() -> None:
            filters = {k: self.get_argument(k, "") or None for k in self.FILTERS}
            limit = self.int_argument("limit", 50, 1, 500)
            offset = self.int_argument("offset", 0, 0, 10**12)

            def query(store: Any) -> dict[str, Any]:
                from cmlops.server.audit_view import AuditView

                records = store.records(**filters, limit=limit, offset=offset, newest_first=True)
                return {
                    **AuditView(store, self.services.audit_names, records).describe(),
                    "total": store.count_records(**filters),
                    "limit": limit,
                    "offset": offset,
                }

            self.reply(await self.store(query))

        await self.guarded(body())


class VerifyHandler(BaseHandler):
    """Verify the chain from the last verified head (``?full=1`` or ``{"full": true}``: all).

    The reply names the mode and, when incremental, the head it started from:
    an edit before that head is found only by a full verify.
    """

    @tornado.web.authenticated
    async def post(self) -> None:
        async def body() -> None:
            full = self.get_argument("full", "") in ("1", "true", "yes")
            full = full or self.body_json().get("full") is True
            check = self.services.chain_check
            self.reply(await self.store(lambda store: _verify_reply(check, store, full)))

        await self.guarded(body())


def _verify_reply(check: Any, store: Any, full: bool) -> dict[str, Any]:
    result, mode, since = check.verify(store, full=full)
    out: dict[str, Any] = {
        "ok": result.ok,
        "mode": mode,
        "verified_from": {"seq": since.seq, "hash": since.hash} if since else None,
        "records": result.records,
        "head": {"seq": result.head.seq, "hash": result.head.hash} if result.head else None,
        "broken": None,
        "warnings": list(result.warnings),
        "summary": _summary(result, since),
    }
    if result.broken is not None:
        seq = result.broken.seq
        near = store.records(after_seq=seq - 1, limit=1)
        record = near[0].to_dict() if near and near[0].seq == seq else None
        out["broken"] = {"seq": seq, "reason": result.broken.reason, "record": record}
    return out


def _summary(result: Any, since: Any) -> str:
    if since is None or not result.ok:
        return result.summary()
    head = result.head
    return (
        f"OK: {result.records} new records verified after seq {since.seq} (head seq {head.seq} "
        f"{head.hash}); records up to seq {since.seq} were verified earlier — a full verify "
        "re-checks them"
    )
