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
