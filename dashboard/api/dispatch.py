"""Dispatch REST API under ``/api/v1`` (documented in ``dashboard/api/openapi.py``).

Thin adapters: parse and check the request, call :class:`DispatchService`, turn
domain errors into HTTP statuses (Invalid 400, NotFound 404, Conflict 409, store
failure 503). Every write is committed before the answer is sent.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboard.api.auth import current_user, error, require
from dashboard.api.dispatch_runtime import runtime_for
from dashboard.context import AppContext
from dispatch.auth import can
from dispatch.db import StoreError
from dispatch.errors import Conflict, DispatchError, Invalid, NotFound
from dispatch.model import INCIDENT_STATES

MAX_LIMIT = 1000
MAX_ID = 64
_DIGITS = re.compile(r"[0-9]{1,15}")


def _show_phone() -> bool:
    who = current_user()
    return bool(who and can(who[1], "see_phone"))


def _actor() -> str:
    who = current_user()
    return who[0] if who else "anonymous"


def _limit(default: int = 200) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise Invalid("limit", f"must be an integer 1..{MAX_LIMIT}")
    return int(raw)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("body", "must be a JSON object")
    return body


def _text_id(value: Any, name: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID:
        raise Invalid(name, f"must be a string of 1..{MAX_ID} characters")
    return value


def register(ctx: AppContext) -> None:
    bp = Blueprint("dispatch_api", __name__, url_prefix="/api/v1")

    def svc() -> Any:
        return runtime_for(ctx).service

    @bp.errorhandler(DispatchError)
    def domain_error(e: DispatchError) -> Response:
        if isinstance(e, Invalid):
            return error(400, str(e), field=e.field)
        if isinstance(e, NotFound):
            return error(404, str(e))
        if isinstance(e, Conflict):
            return error(409, str(e))
        return error(400, str(e))

    @bp.errorhandler(StoreError)
    def store_error(e: StoreError) -> Response:
        return error(503, "incident store unavailable; nothing was changed", detail=str(e))

    @bp.post("/incidents")
    @require("create")
    def create_incident() -> tuple[Response, int]:
        inc = svc().create_incident(_body(), _actor())
        return jsonify(svc().incident_view(inc, ctx.clock.now_ms(),
                                           show_phone=_show_phone())), 201

    @bp.get("/incidents")
    @require("view")
    def list_incidents() -> Response:
        state = request.args.get("state")
        if state is not None and state not in INCIDENT_STATES:
            raise Invalid("state", f"must be one of {', '.join(INCIDENT_STATES)}")
        now = ctx.clock.now_ms()
        items = svc().store.incidents(state, _limit())
        return jsonify({"items": [svc().incident_view(i, now, show_phone=_show_phone())
                                  for i in items]})

    @bp.get("/incidents/<incident_id>")
    @require("view")
    def get_incident(incident_id: str) -> Response:
        inc = svc().store.incident(_text_id(incident_id, "incident_id"))
        d = svc().incident_view(inc, ctx.clock.now_ms(), show_phone=_show_phone())
        d["assignments"] = [a.as_json() for a in svc().store.assignments(inc.id)]
        return jsonify(d)

    @bp.get("/incidents/<incident_id>/recommendations")
    @require("view")
    def recommendations(incident_id: str) -> Response:
        return jsonify(svc().recommendations(_text_id(incident_id, "incident_id")))

    @bp.get("/incidents/<incident_id>/timeline")
    @require("view")
    def timeline(incident_id: str) -> Response:
        inc = svc().store.incident(_text_id(incident_id, "incident_id"))
        entries = svc().store.audit(incident_id=inc.id, limit=_limit(500))
        return jsonify({"items": [e.as_json(show_phone=_show_phone()) for e in entries]})

    @bp.post("/incidents/<incident_id>/assignments")
    @require("dispatch")
    def assign(incident_id: str) -> tuple[Response, int]:
        unit_id = _text_id(_body().get("unit_id"), "unit_id")
        a = svc().assign(_text_id(incident_id, "incident_id"), unit_id, _actor())
        return jsonify(a.as_json()), 201

    @bp.post("/incidents/<incident_id>/status")
    @require("dispatch")
    def incident_status(incident_id: str) -> Response:
        state = _body().get("state")
        if state not in ("closed", "cancelled"):
            raise Invalid("state", "must be closed or cancelled")
        inc = svc().close_incident(_text_id(incident_id, "incident_id"), state, _actor())
        return jsonify(svc().incident_view(inc, ctx.clock.now_ms(), show_phone=_show_phone()))

    @bp.get("/units")
    @require("view")
    def units() -> Response:
        positions = runtime_for(ctx).mover.positions
        items = svc().unit_views(dict(positions))
        status = request.args.get("status")
        if status is not None:
            items = [u for u in items if u["status"] == status]
        return jsonify({"items": items})

    @bp.post("/units/<unit_id>/status")
    @require("dispatch")
    def unit_status(unit_id: str) -> Response:
        status = _body().get("status")
        if not isinstance(status, str):
            raise Invalid("status", "must be a string")
        u = svc().set_unit_status(_text_id(unit_id, "unit_id"), status, _actor())
        return jsonify(u.as_json())

    @bp.get("/audit")
    @require("audit")
    def audit() -> Response:
        before = request.args.get("before_id")
        if before is not None and not _DIGITS.fullmatch(before):
            raise Invalid("before_id", "must be a positive integer")
        entries = svc().store.audit(limit=_limit(), before_id=int(before) if before else None)
        return jsonify({"items": [e.as_json(show_phone=_show_phone()) for e in entries]})

    ctx.server.register_blueprint(bp)
