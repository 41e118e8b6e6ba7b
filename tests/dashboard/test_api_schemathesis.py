"""Schemathesis against the served OpenAPI document: generated requests never cause a 5xx.

Bounded (a few examples per operation, no shrinking), logged in as admin with the
CSRF header so the generated requests reach the handlers instead of stopping at 401/403.
"""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from tests.dashboard.dispatch_app import dispatch_app, login

_TMP = tempfile.TemporaryDirectory(prefix="citycc-schemathesis-")
_CM = dispatch_app(Path(_TMP.name))
_CTX = _CM.__enter__()
_CLIENT = _CTX.server.test_client()
_HEADERS = login(_CLIENT, "admin")
_COOKIES = {name: _CLIENT.get_cookie(name).value  # type: ignore[union-attr]
            for name in ("session", "_csrf_token")}

# logging out in the middle would turn the rest into 401s
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _CTX.server).exclude(
    path="/api/v1/logout")


def test_the_generated_requests_are_authenticated() -> None:
    op = schema["/api/v1/me"]["GET"]
    r = op.Case().call(headers=_HEADERS, cookies=_COOKIES)
    assert r.status_code == 200 and r.json()["role"] == "admin"


_CLOSED: list[bool] = []


def _close() -> None:
    """Stop the app's threads and remove its directory, once — also when this module was
    collected but its tests were deselected (then teardown_module never runs)."""
    if not _CLOSED:
        _CLOSED.append(True)
        _CM.__exit__(None, None, None)
        _TMP.cleanup()


atexit.register(_close)


def teardown_module() -> None:
    _close()


@schema.parametrize()
@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=_HEADERS, cookies=_COOKIES, checks=[not_a_server_error])
