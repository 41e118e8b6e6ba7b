"""``/api/v1/login``, ``/logout``, ``/me`` and the guards every dispatch route uses.

Sessions are Flask's signed cookie (HttpOnly, SameSite=Lax). CSRF: at login the
server also sets a readable ``_csrf_token`` cookie; a state-changing request
authenticated by the session cookie must echo it in the ``X-CSRF-Token`` header
(double submit; a cross-site form cannot read the cookie). Dash's renderer sends the
same cookie as ``X-CSRFToken``, which the console's callbacks check.
Unauthenticated → 401, authenticated without the permission → 403 (never hidden).
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar, cast

from dash import ctx as dash_ctx
from flask import Blueprint, Response, jsonify, make_response, request, session

from dashboard.api.dispatch_runtime import runtime_for
from dashboard.context import AppContext
from dispatch.auth import ROLES, authenticate, can

CSRF_COOKIE = "_csrf_token"
CSRF_HEADERS = ("X-CSRF-Token", "X-CSRFToken")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
F = TypeVar("F", bound=Callable[..., Any])


def error(status: int, message: str, **extra: Any) -> Response:
    resp = jsonify({"error": message, **extra})
    resp.status_code = status
    return resp


def current_user() -> tuple[str, str] | None:
    """(username, role) of the session, or None."""
    user, role = session.get("user"), session.get("role")
    if isinstance(user, str) and role in ROLES:
        return user, str(role)
    return None


def csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = next((request.headers.get(h) for h in CSRF_HEADERS if request.headers.get(h)), None)
    return bool(expected and sent and hmac.compare_digest(str(expected), sent))


def require(permission: str) -> Callable[[F], F]:
    """401 without a session, 403 without ``permission`` or a valid CSRF token."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            who = current_user()
            if who is None:
                return error(401, "login required")
            if request.method in UNSAFE and not csrf_ok():
                return error(403, "missing or wrong CSRF token (send the _csrf_token cookie "
                             "value in the X-CSRF-Token header)")
            if not can(who[1], permission):
                return error(403, f"role {who[1]} may not {permission}")
            return fn(*args, **kwargs)

        return cast(F, inner)

    return wrap


def login_session(username: str, role: str) -> str:
    """Start a fresh session (no fixation) and return its CSRF token."""
    session.clear()
    token = secrets.token_urlsafe(32)
    session.update(user=username, role=role, csrf=token)
    session.permanent = False
    return token


def form_login(clicks: Any, submits: Any, user: Any, password: Any, store: Any) -> bool | None:
    """A login form's submit in a Dash callback: None when nothing was submitted yet (the
    form was just rendered), False on bad input or wrong credentials, True once the session
    and the CSRF cookie are set."""
    if not clicks and not submits:
        return None
    if not isinstance(user, str) or not isinstance(password, str) or not (
            0 < len(user) <= 64 and 0 < len(password) <= 256):
        return False
    role = authenticate(store, user, password)
    if role is None:
        return False
    token = login_session(user, role)
    dash_ctx.response.set_cookie(CSRF_COOKIE, token, samesite="Strict", httponly=False)
    return True


def register(ctx: AppContext) -> None:
    ctx.server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")

    @bp.post("/login")
    def login() -> Response:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return error(400, "body must be a JSON object with username and password")
        username, password = body.get("username"), body.get("password")
        if not (isinstance(username, str) and isinstance(password, str)) or not (
                0 < len(username) <= 64 and 0 < len(password) <= 256):
            return error(400, "username and password must be non-empty strings")
        role = authenticate(runtime_for(ctx).store, username, password)
        if role is None:
            return error(401, "wrong username or password")
        token = login_session(username, role)
        resp = make_response(jsonify({"username": username, "role": role, "csrf_token": token}))
        resp.set_cookie(CSRF_COOKIE, token, samesite="Strict", httponly=False)
        return resp

    @bp.post("/logout")
    @require("view")
    def logout() -> Response:
        session.clear()
        resp = make_response(jsonify({"ok": True}))
        resp.delete_cookie(CSRF_COOKIE)
        return resp

    @bp.get("/me")
    @require("view")
    def me() -> Response:
        who = current_user()
        assert who is not None
        return jsonify({"username": who[0], "role": who[1],
                        "permissions": sorted(p for p in ("view", "create", "dispatch", "audit",
                                                          "see_phone") if can(who[1], p))})

    ctx.server.register_blueprint(bp)
