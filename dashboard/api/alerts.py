"""``/api/v1/alerts…``: the alert queue over REST, and CAP 1.2 in and out.

Reads need the ``view`` permission, actions the ``create`` permission (operator,
commander, admin) — dispatch's roles and guards (:mod:`dashboard.api.auth`), including
the CSRF double-submit check. Alerts live in the same database as dispatch's incidents
(:func:`dashboard.api.dispatch_runtime.database_url`); "create incident" calls
dispatch's :meth:`~dispatch.service.DispatchService.create_incident`.

Endpoints::

    GET  /api/v1/alerts[?state=active|cleared&kind=city|sensor&open=1&limit=N]
    GET  /api/v1/alerts/<id>                  alert + timeline
    GET  /api/v1/alerts/<id>.cap              CAP 1.2 <alert>   (application/cap+xml)
    GET  /api/v1/alerts.cap                   active alerts as a CAP feed
    POST /api/v1/alerts/<id>/acknowledge
    POST /api/v1/alerts/<id>/assign           {"assignee": "..."}
    POST /api/v1/alerts/<id>/comment          {"text": "..."}
    POST /api/v1/alerts/<id>/clear            {"reason": "..."} (optional)
    POST /api/v1/alerts/<id>/incident         {"type": "hazmat_leak"} (optional) → 201
    POST /api/v1/alerts/cap                   CAP 1.2 XML body → 201 / 200 (Cancel) / 400
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, request

from alerts.areas import CityAreas
from alerts.cap import alert_to_cap, feed_to_cap
from alerts.cap_ingest import CapIngest
from alerts.cap_parse import MAX_BYTES, CapError
from alerts.lifecycle import AlertService
from alerts.model import ACTIVE, STATES
from alerts.publish import AlertPublisher
from alerts.store import AlertConflict, AlertNotFound, AlertStore, Database
from dashboard.api.auth import current_user, error, require
from dashboard.api.dispatch_runtime import database_url, runtime_for
from dashboard.context import AppContext
from dispatch.errors import DispatchError

CAP_MIME = "application/cap+xml"
_KEY = "citycc_alerts"

# ---------------------------------------------------------------- OpenAPI (merged by openapi.py)
_ERR = {"$ref": "#/components/schemas/Error"}
_ALERT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "kind", "source", "level", "state", "acknowledged", "status",
                 "title_zh", "title_en", "sensor_ids", "first_ts", "last_ts"],
    "properties": {
        "id": {"type": "string"}, "type": {"type": "string"},
        "kind": {"type": "string", "enum": ["city", "sensor"]},
        "source": {"type": "string"}, "level": {"type": "integer", "minimum": 1, "maximum": 4},
        "state": {"type": "string", "enum": list(STATES)}, "acknowledged": {"type": "boolean"},
        "status": {"type": "string"}, "title_zh": {"type": "string"},
        "title_en": {"type": "string"}, "assignee": {"type": "string"},
        "sensor_ids": {"type": "array", "items": {"type": "string"}},
        "first_ts": {"type": "integer"}, "last_ts": {"type": "integer"},
        "incident_id": {"type": "string"}, "cap_identifier": {"type": "string"},
    },
}


def _j(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errs(*codes: int) -> dict[str, Any]:
    return {str(c): _j(_ERR, {400: "Invalid input", 401: "Not logged in", 403: "Forbidden",
                              404: "Not found", 409: "Conflict", 413: "Too large"}[c])
            for c in codes}


_AID = {"name": "alert_id", "in": "path", "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": 64}}
_READ: list[dict[str, list[str]]] = [{"session": []}]
_WRITE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]


def _action(summary: str, body: dict[str, Any] | None, ok: str = "200") -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "security": _WRITE, "parameters": [_AID],
                          "responses": {ok: _j(_ALERT_SCHEMA, "The alert after the action"),
                                        **_errs(400, 401, 403, 404, 409)}}
    if body is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {
            "schema": {"type": "object", "properties": body}}}}
    return {"post": op}


_CAP_BODY = {"content": {"application/cap+xml": {"schema": {"type": "string"}},
                         "application/xml": {"schema": {"type": "string"}}}}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/alerts": {"get": {
        "summary": "Alerts, most urgent first", "security": _READ,
        "parameters": [
            {"name": "state", "in": "query", "schema": {"type": "string", "enum": list(STATES)}},
            {"name": "kind", "in": "query", "schema": {"type": "string",
                                                      "enum": ["city", "sensor"]}},
            {"name": "open", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                       "maximum": 2000}}],
        "responses": {"200": _j({"type": "object", "properties": {"alerts": {
            "type": "array", "items": _ALERT_SCHEMA}}}, "Alerts"), **_errs(400, 401)}}},
    "/api/v1/alerts.cap": {"get": {
        "summary": "Active alerts as CAP 1.2 (one <alert> per alert in an <alerts> wrapper)",
        "security": _READ, "responses": {"200": {"description": "CAP feed", "content": {
            CAP_MIME: {"schema": {"type": "string"}}}}, **_errs(401)}}},
    "/api/v1/alerts/cap": {"post": {
        "summary": "Import a CAP 1.2 message (Alert / Update / Cancel)", "security": _WRITE,
        "requestBody": _CAP_BODY,
        "responses": {"201": _j({"type": "object"}, "Alert created"),
                      "200": _j({"type": "object"}, "Cancel / Ack applied"),
                      **_errs(400, 401, 403, 413)}}},
    "/api/v1/alerts/{alert_id}": {"get": {
        "summary": "One alert with its timeline; append .cap for its CAP 1.2 message",
        "security": _READ, "parameters": [_AID],
        "responses": {"200": {"description": "The alert (JSON) or its CAP (…/ID.cap)",
                              "content": {"application/json": {"schema": _ALERT_SCHEMA},
                                          CAP_MIME: {"schema": {"type": "string"}}}},
                      **_errs(401, 404)}}},
    "/api/v1/alerts/{alert_id}/acknowledge": _action("Acknowledge", None),
    "/api/v1/alerts/{alert_id}/assign": _action(
        "Assign", {"assignee": {"type": "string", "maxLength": 64}}),
    "/api/v1/alerts/{alert_id}/comment": _action(
        "Comment", {"text": {"type": "string", "maxLength": 2000}}, "201"),
    "/api/v1/alerts/{alert_id}/clear": _action(
        "Clear by hand", {"reason": {"type": "string", "maxLength": 2000}}),
    "/api/v1/alerts/{alert_id}/incident": {"post": {
        "summary": "Create a dispatch incident from the alert (once) and link it",
        "security": _WRITE, "parameters": [_AID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {"type": {"type": "string"}}}}}},
        "responses": {"201": _j({"type": "object", "properties": {
            "incident_id": {"type": "string"}, "alert": _ALERT_SCHEMA}}, "Incident linked"),
            **_errs(400, 401, 403, 404, 409)}}},
}


@dataclass
class AlertsRuntime:
    service: AlertService
    areas: CityAreas
    ingest: CapIngest

    def stop(self) -> None:
        self.service.store.close()


def alerts_runtime(ctx: AppContext) -> AlertsRuntime:
    """The web process's alert service (built once, on the dispatch database)."""
    rt = ctx.server.extensions.get(_KEY)
    if rt is not None:
        return rt  # type: ignore[no-any-return]

    def create_incident(body: dict[str, Any], actor: str) -> str:
        return str(runtime_for(ctx).service.create_incident(body, actor).id)

    store = AlertStore(Database(database_url(ctx.settings)))
    service = AlertService(store, ctx.clock, publisher=AlertPublisher(ctx.state),
                           incidents=create_incident)
    for a in store.alerts(state=ACTIVE, limit=10_000):  # state store may be fresh (restart)
        service.publisher.publish(a)
    rt = AlertsRuntime(service, CityAreas(ctx.city), CapIngest(service))
    ctx.server.extensions[_KEY] = rt
    ctx.closers.append(rt)
    return rt


def _actor() -> str:
    who = current_user()
    return who[0] if who else "anonymous"


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not request.data:
        return {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _str_field(body: dict[str, Any], name: str, required: bool) -> str:
    v = body.get(name, "")
    if not isinstance(v, str) or (required and not v.strip()):
        raise ValueError(f"{name} must be a non-empty string" if required
                         else f"{name} must be a string")
    return v


def register(ctx: AppContext) -> None:
    bp = Blueprint("alerts_api", __name__, url_prefix="/api/v1")

    def rt() -> AlertsRuntime:
        return alerts_runtime(ctx)

    def run(fn: Any, status: int = 200) -> Response:
        try:
            out = fn()
        except AlertNotFound as e:
            return error(404, f"alert {e.args[0]} not found")
        except AlertConflict as e:
            return error(409, str(e))
        except ValueError as e:
            return error(400, str(e))
        except DispatchError as e:
            return error(400 if "Invalid" in type(e).__name__ else 409, str(e))
        resp = jsonify(out)
        resp.status_code = status
        return resp

    def cap_response(xml: bytes) -> Response:
        return Response(xml, mimetype=CAP_MIME)

    @bp.get("/alerts")
    @require("view")
    def list_alerts() -> Response:
        state = request.args.get("state") or None
        kind = request.args.get("kind") or None
        if state is not None and state not in STATES:
            return error(400, f"state must be one of {', '.join(STATES)}")
        if kind is not None and kind not in ("city", "sensor"):
            return error(400, "kind must be city or sensor")
        try:
            limit = max(1, min(int(request.args.get("limit", "200")), 2000))
        except ValueError:
            return error(400, "limit must be an integer")
        open_only = request.args.get("open") in ("1", "true")
        alerts = rt().service.store.alerts(state, kind, open_only, limit)
        alerts.sort(key=lambda a: (a.state != ACTIVE, a.acknowledged, a.level, -a.first_ts))
        return jsonify({"alerts": [a.as_json() for a in alerts]})

    @bp.get("/alerts.cap")
    @require("view")
    def cap_feed() -> Response:
        r = rt()
        alerts = r.service.store.alerts(state=ACTIVE, limit=2000)
        return cap_response(feed_to_cap(alerts, r.service.rules, ctx.clock.now_ms(),
                                        r.areas.outline, r.areas.names))

    @bp.get("/alerts/<alert_id>")
    @require("view")
    def get_alert(alert_id: str) -> Response:
        r = rt()
        if alert_id.endswith(".cap"):
            try:
                a = r.service.get(alert_id.removesuffix(".cap"))
            except AlertNotFound:
                return error(404, f"alert {alert_id.removesuffix('.cap')} not found")
            return cap_response(alert_to_cap(a, r.service.rules, ctx.clock.now_ms(),
                                             r.areas.outline, r.areas.names(a)))

        def out() -> dict[str, Any]:
            a = r.service.get(alert_id)
            return {**a.as_json(),
                    "timeline": [e.as_json() for e in r.service.store.timeline(alert_id)]}
        return run(out)

    @bp.post("/alerts/<alert_id>/acknowledge")
    @require("create")
    def acknowledge(alert_id: str) -> Response:
        return run(lambda: rt().service.acknowledge(alert_id, _actor()).as_json())

    @bp.post("/alerts/<alert_id>/assign")
    @require("create")
    def assign(alert_id: str) -> Response:
        return run(lambda: rt().service.assign(
            alert_id, _str_field(_body(), "assignee", True), _actor()).as_json())

    @bp.post("/alerts/<alert_id>/comment")
    @require("create")
    def comment(alert_id: str) -> Response:
        return run(lambda: rt().service.comment(
            alert_id, _str_field(_body(), "text", True), _actor()).as_json(), 201)

    @bp.post("/alerts/<alert_id>/clear")
    @require("create")
    def clear(alert_id: str) -> Response:
        return run(lambda: rt().service.clear(
            alert_id, _actor(), _str_field(_body(), "reason", False)).as_json())

    @bp.post("/alerts/<alert_id>/incident")
    @require("create")
    def incident(alert_id: str) -> Response:
        def out() -> dict[str, Any]:
            body = _body()
            kind = body.get("type")
            if kind is not None and not isinstance(kind, str):
                raise ValueError("type must be a string")
            a, inc = rt().service.create_incident(alert_id, _actor(), kind)
            return {"alert": a.as_json(), "incident_id": inc}
        return run(out, 201)

    @bp.post("/alerts/cap")
    @require("create")
    def cap_in() -> Response:
        if request.content_length is not None and request.content_length > MAX_BYTES:
            return error(413, f"CAP message larger than {MAX_BYTES} bytes")
        data = request.get_data(cache=False)
        if len(data) > MAX_BYTES:
            return error(413, f"CAP message larger than {MAX_BYTES} bytes")
        try:
            msg_type, alerts = rt().ingest.handle(data, _actor())
        except CapError as e:
            return error(400, str(e), problems=list(e.problems))
        status = 201 if msg_type in ("Alert", "Update") else 200
        resp = jsonify({"msgType": msg_type, "alerts": [a.as_json() for a in alerts]})
        resp.status_code = status
        return resp

    ctx.server.register_blueprint(bp)
