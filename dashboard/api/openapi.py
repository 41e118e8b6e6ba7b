"""The OpenAPI 3.1 document of ``/api/v1``, written as data and served at ``/api/v1/openapi.json``.

Kept in sync by a test that compares every ``/api/v1`` rule of the Flask app with
the ``paths`` here (and schemathesis checks the answers against these schemas).
Other API modules document their own routes by defining ``OPENAPI_PATHS`` (same
shape as ``paths``); they are merged in when the document is first served.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from flask import Response, jsonify

from dashboard.context import AppContext
from dispatch.model import INCIDENT_STATES, LEVELS, SOURCES, UNIT_STATUSES, load_plans
from dispatch.validation import MAX_DESCRIPTION, MAX_NAME, MAX_PHONE

_ERR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {400: "Invalid input", 401: "Not logged in", 403: "Forbidden for this role, or "
            "missing CSRF token", 404: "Not found", 409: "Conflict (taken or wrong status)",
            503: "Store unavailable"}
    return {str(c): _json(_ERR, text[c]) for c in codes}


_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_INCIDENT_ID = {"name": "incident_id", "in": "path", "required": True, "schema": _ID}
_LIMIT = {"name": "limit", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
_SEC: list[dict[str, list[str]]] = [{"session": []}]
_SEC_WRITE: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]


def build_document(bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    lon0, lat0, lon1, lat1 = bbox
    types = list(load_plans().codes)
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "required": ["error"],
                  "properties": {"error": {"type": "string"}, "field": {"type": "string"},
                                 "detail": {"type": "string"}}},
        "Login": {"type": "object", "required": ["username", "password"],
                  "additionalProperties": False,
                  "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "password": {"type": "string", "minLength": 1,
                                              "maxLength": 256}}},
        "NewIncident": {
            "type": "object", "additionalProperties": False,
            "required": ["type", "lon", "lat", "priority"],
            "properties": {
                "type": {"type": "string", "enum": types},
                "lon": {"type": "number", "minimum": lon0, "maximum": lon1},
                "lat": {"type": "number", "minimum": lat0, "maximum": lat1},
                "priority": {"type": "integer", "minimum": 1, "maximum": 5,
                             "description": "1 = most urgent"},
                "level": {"type": "string", "enum": list(LEVELS), "default": "IV"},
                "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
                "caller_phone": {"type": "string", "maxLength": MAX_PHONE,
                                 "pattern": "^[0-9+\\-() ]*$"},
                "caller_name": {"type": "string", "maxLength": MAX_NAME},
                "source": {"type": "string", "enum": list(SOURCES), "default": "api"},
            }},
        "Timer": {"type": "object", "properties": {
            "elapsed_s": {"type": "number"}, "limit_s": {"type": ["number", "null"]},
            "overdue": {"type": "boolean"}}},
        "Incident": {"type": "object", "required": ["id", "type", "state", "lon", "lat"],
                     "properties": {
                         "id": {"type": "string"}, "type": {"type": "string"},
                         "priority": {"type": "integer"}, "level": {"type": "string"},
                         "lon": {"type": "number"}, "lat": {"type": "number"},
                         "district": {"type": "string"}, "caller_name": {"type": "string"},
                         "caller_phone": {"type": "string",
                                          "description": "masked except for commanders"},
                         "description": {"type": "string"}, "source": {"type": "string"},
                         "state": {"type": "string", "enum": list(INCIDENT_STATES)},
                         "created_ms": {"type": "integer"}, "updated_ms": {"type": "integer"},
                         "created_by": {"type": "string"}, "version": {"type": "integer"},
                         "timer": {"$ref": "#/components/schemas/Timer"},
                         "assignments": {"type": "array",
                                         "items": {"$ref": "#/components/schemas/Assignment"}}}},
        "Assignment": {"type": "object", "required": ["id", "incident_id", "unit_id", "state"],
                       "properties": {
                           "id": {"type": "integer"}, "incident_id": {"type": "string"},
                           "unit_id": {"type": "string"}, "state": {"type": "string"},
                           "eta_s": {"type": "number"}, "assigned_ms": {"type": "integer"},
                           "assigned_by": {"type": "string"},
                           **{k: {"type": ["integer", "null"]} for k in (
                               "en_route_ms", "on_scene_ms", "released_ms", "completed_ms")}}},
        "Unit": {"type": "object", "required": ["unit_id", "kind", "status"],
                 "properties": {
                     "unit_id": {"type": "string"}, "kind": {"type": "string"},
                     "station_id": {"type": "string"},
                     "capabilities": {"type": "array", "items": {"type": "string"}},
                     "status": {"type": "string", "enum": list(UNIT_STATUSES)},
                     "incident_id": {"type": ["string", "null"]},
                     "status_since_ms": {"type": "integer"}, "lon": {"type": "number"},
                     "lat": {"type": "number"}, "version": {"type": "integer"},
                     "timer": {"$ref": "#/components/schemas/Timer"}}},
        "Candidate": {"type": "object", "required": ["unit_id", "eta_s", "coverage_impact"],
                      "properties": {
                          "unit_id": {"type": "string"}, "kind": {"type": "string"},
                          "station_id": {"type": "string"},
                          "matches": {"type": "array", "items": {"type": "string"}},
                          "travel_s": {"type": "number"}, "turnout_s": {"type": "number"},
                          "eta_s": {"type": "number",
                                    "description": "turnout + travel at live speeds"},
                          "in_plan": {"type": "boolean"},
                          "coverage_impact": {"type": "object", "description":
                                              "district that loses its nearest unit of this kind"
                                              " and its mean response time before/after"}}},
        "AuditEntry": {"type": "object", "required": ["id", "ts_ms", "actor", "action"],
                       "properties": {
                           "id": {"type": "integer"}, "ts_ms": {"type": "integer"},
                           "actor": {"type": "string"}, "action": {"type": "string"},
                           "entity": {"type": "string"}, "entity_id": {"type": "string"},
                           "incident_id": {"type": ["string", "null"]},
                           "before": {"type": ["object", "null"]},
                           "after": {"type": ["object", "null"]}}},
    }

    def items(ref: str) -> dict[str, Any]:
        return {"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": f"#/components/schemas/{ref}"}}}}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    inc = {"$ref": "#/components/schemas/Incident"}
    paths: dict[str, Any] = {
        "/api/v1/login": {"post": {
            "summary": "Log in; sets the session cookie and the _csrf_token cookie",
            "security": [], "requestBody": body({"$ref": "#/components/schemas/Login"}),
            "responses": {"200": _json({"type": "object", "properties": {
                "username": {"type": "string"}, "role": {"type": "string"},
                "csrf_token": {"type": "string"}}}, "Logged in"), **_errors(400, 401)}}},
        "/api/v1/logout": {"post": {
            "summary": "End the session", "security": _SEC_WRITE,
            "responses": {"200": _json({"type": "object"}, "Logged out"), **_errors(401, 403)}}},
        "/api/v1/me": {"get": {
            "summary": "Who am I", "security": _SEC,
            "responses": {"200": _json({"type": "object"}, "The session's user"),
                          **_errors(401)}}},
        "/api/v1/incidents": {
            "post": {"summary": "Create an incident (operator, commander, admin)",
                     "security": _SEC_WRITE,
                     "requestBody": body({"$ref": "#/components/schemas/NewIncident"}),
                     "responses": {"201": _json(inc, "Created"), **_errors(400, 401, 403, 503)}},
            "get": {"summary": "List incidents, newest first", "security": _SEC,
                    "parameters": [{"name": "state", "in": "query", "required": False,
                                    "schema": {"type": "string", "enum": list(INCIDENT_STATES)}},
                                   _LIMIT],
                    "responses": {"200": _json(items("Incident"), "Incidents"),
                                  **_errors(400, 401, 403)}}},
        "/api/v1/incidents/{incident_id}": {"get": {
            "summary": "One incident with its assignments", "security": _SEC,
            "parameters": [_INCIDENT_ID],
            "responses": {"200": _json(inc, "The incident"), **_errors(400, 401, 403, 404)}}},
        "/api/v1/incidents/{incident_id}/recommendations": {"get": {
            "summary": "Available units ranked by eta_s, with coverage impact",
            "security": _SEC, "parameters": [_INCIDENT_ID],
            "responses": {"200": _json({"type": "object", "required": ["candidates"],
                                        "properties": {
                                            "incident_id": {"type": "string"},
                                            "plan": {"type": "object"},
                                            "outstanding": {"type": "object"},
                                            "candidates": {"type": "array", "items": {
                                                "$ref": "#/components/schemas/Candidate"}}}},
                                       "Candidates sorted by eta_s"),
                          **_errors(400, 401, 403, 404, 409)}}},
        "/api/v1/incidents/{incident_id}/timeline": {"get": {
            "summary": "Every recorded action on the incident, oldest first",
            "security": _SEC, "parameters": [_INCIDENT_ID, _LIMIT],
            "responses": {"200": _json(items("AuditEntry"), "Timeline"),
                          **_errors(400, 401, 403, 404)}}},
        "/api/v1/incidents/{incident_id}/assignments": {"post": {
            "summary": "Assign a unit (commander, admin); 409 when the unit is taken",
            "security": _SEC_WRITE, "parameters": [_INCIDENT_ID],
            "requestBody": body({"type": "object", "required": ["unit_id"],
                                 "properties": {"unit_id": _ID}}),
            "responses": {"201": _json({"$ref": "#/components/schemas/Assignment"}, "Assigned"),
                          **_errors(400, 401, 403, 404, 409, 503)}}},
        "/api/v1/incidents/{incident_id}/status": {"post": {
            "summary": "Close or cancel an incident; committed units start returning",
            "security": _SEC_WRITE, "parameters": [_INCIDENT_ID],
            "requestBody": body({"type": "object", "required": ["state"], "properties": {
                "state": {"type": "string", "enum": ["closed", "cancelled"]}}}),
            "responses": {"200": _json(inc, "Updated"),
                          **_errors(400, 401, 403, 404, 409, 503)}}},
        "/api/v1/units": {"get": {
            "summary": "Unit status board (live positions, status timers)", "security": _SEC,
            "parameters": [{"name": "status", "in": "query", "required": False,
                            "schema": {"type": "string", "enum": list(UNIT_STATUSES)}}],
            "responses": {"200": _json(items("Unit"), "Units"), **_errors(401, 403)}}},
        "/api/v1/units/{unit_id}/status": {"post": {
            "summary": "Change a unit's status (en_route, on_scene, returning, available, "
                       "out_of_service)", "security": _SEC_WRITE,
            "parameters": [{"name": "unit_id", "in": "path", "required": True, "schema": _ID}],
            "requestBody": body({"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string", "enum": list(UNIT_STATUSES)}}}),
            "responses": {"200": _json({"$ref": "#/components/schemas/Unit"}, "Updated"),
                          **_errors(400, 401, 403, 404, 409, 503)}}},
        "/api/v1/audit": {"get": {
            "summary": "Append-only audit log, newest first (admin)", "security": _SEC,
            "parameters": [_LIMIT, {"name": "before_id", "in": "query", "required": False,
                                    "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": _json(items("AuditEntry"), "Audit entries"),
                          **_errors(400, 401, 403)}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "responses": {"200": _json({"type": "object"}, "OpenAPI document")}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "City Operations Command Center — Dispatch API", "version": "1.0.0",
                 "description": "Emergency dispatch (119/120/110). Cookie session from "
                 "POST /login; state-changing requests also send X-CSRF-Token."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"}}},
    }


def contributed_paths() -> dict[str, Any]:
    """``OPENAPI_PATHS`` of other modules in ``dashboard/api`` (each documents its routes)."""
    from dashboard import api as api_package

    out: dict[str, Any] = {}
    for mod in sorted(pkgutil.iter_modules(api_package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{api_package.__name__}.{mod.name}")
        out.update(getattr(module, "OPENAPI_PATHS", {}))
    return out


def register(ctx: AppContext) -> None:
    b = ctx.city.geo.city.bounds
    doc = build_document((float(b[0]), float(b[1]), float(b[2]), float(b[3])))
    merged: list[dict[str, Any]] = []

    @ctx.server.get("/api/v1/openapi.json")
    def openapi() -> Response:
        if not merged:  # after every module has registered
            merged.append({**doc, "paths": {**contributed_paths(), **doc["paths"]}})
        return jsonify(merged[0])
