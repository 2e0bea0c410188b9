"""REST handlers of the model registry (read-only): ``/models`` and ``/models/<name>``.

The sidebar's Models view reads these. A model name is checked against the
registry's name rule before it reaches the store; the reply holds what the
registry replays from the chain (versions, status, change, evidence ids) and
the model's latest audit records — never a file path from the request.
"""

from __future__ import annotations

from typing import Any

import tornado.web

from cmlops.server.base import BaseHandler, NotFound


def _version(v: Any) -> dict[str, Any]:
    facts = v.facts or {}
    return {
        "version": v.version,
        "status": v.status,
        "entity_id": v.entity_id,
        "class": facts.get("class", ""),
        "training_data": [
            {"name": d.get("name"), "entity_id": d.get("entity_id"), "rows": d.get("rows")}
            for d in facts.get("training_data") or []
        ],
        "gaps": facts.get("gaps") or [],
        "change": {k: v.change.get(k) for k in ("scope", "modification", "reasons")},
        "registered": v.registered,
        "validation": {
            k: (v.validation or {}).get(k)
            for k in ("package_id", "validation", "verdict", "ts", "actor")
        }
        if v.validation
        else None,
        "approval": {k: v.approval.get(k) for k in ("package_id", "ts", "actor")}
        if v.approval
        else None,
        "retirement": {k: v.retirement.get(k) for k in ("ts", "actor", "reason")}
        if v.retirement
        else None,
    }


class ModelsHandler(BaseHandler):
    """Every registered model with its versions' status."""

    @tornado.web.authenticated
    async def get(self) -> None:
        async def body() -> None:
            def query(store: Any) -> dict[str, Any]:
                from cmlops.lifecycle.registry import list_models

                return {
                    "models": [
                        {
                            "name": m.name,
                            "description": m.description,
                            "protocol": (m.protocol or {}).get("protocol_id"),
                            "versions": [
                                {"version": v.version, "status": v.status}
                                for _k, v in sorted(m.versions.items())
                            ],
                        }
                        for m in list_models(store)
                    ]
                }

            self.reply(await self.store(query))

        await self.guarded(body())


class ModelHandler(BaseHandler):
    """One model: versions with lineage facts and evidence ids, and its history."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        async def body() -> None:
            from cmlops.lifecycle.errors import RegistryError
            from cmlops.lifecycle.registry import check_name, model_state

            check_name(name)

            def query(store: Any) -> dict[str, Any]:
                try:
                    state = model_state(store, name)
                except RegistryError as error:
                    raise NotFound(str(error)) from None
                refused = store.records(action="model.approval.refused", object_id=name)
                history = sorted(
                    {r.seq: r for r in [*state.history, *refused]}.values(), key=lambda r: r.seq
                )
                return {
                    "name": state.name,
                    "description": state.description,
                    "protocol": {
                        k: (state.protocol or {}).get(k)
                        for k in ("protocol_id", "sha256", "ts", "actor")
                    }
                    if state.protocol
                    else None,
                    "versions": [_version(v) for _k, v in sorted(state.versions.items())],
                    "history": [
                        {k: getattr(r, k) for k in ("seq", "ts", "actor", "action", "reason")}
                        | {"version": r.payload_dict().get("version")}
                        for r in history[-200:]
                    ],
                }

            self.reply(await self.store(query))

        await self.guarded(body())
