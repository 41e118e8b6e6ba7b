"""Validate untrusted incident input (REST body or console form) into store fields.

Types are checked strictly (a JSON ``true`` is not a number, ``"3"`` is not an
integer), numbers must be finite, the location inside the city's bounding box,
and text fields have length limits. Every failure is one
:class:`~dispatch.errors.Invalid` naming the field.

>>> bbox = (119.0, 25.5, 120.0, 26.5)
>>> f = incident_fields({"type": "fire", "lon": 119.3, "lat": 26.08, "priority": 1,
...                      "description": "smoke", "caller_phone": "13800000000"},
...                     ("fire",), bbox)
>>> f["level"], f["source"]
('IV', 'api')
>>> incident_fields({"type": "fire", "lon": 200, "lat": 26, "priority": 1}, ("fire",), bbox)
Traceback (most recent call last):
...
dispatch.errors.Invalid: lon: must be between 119.0 and 120.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dispatch.errors import Invalid
from dispatch.model import LEVELS, PRIORITIES, SOURCES

MAX_DESCRIPTION = 2000
MAX_NAME = 64
MAX_PHONE = 32
PHONE_RE = re.compile(r"^[0-9+\-() ]*$")
INCIDENT_FIELDS = ("type", "lon", "lat", "priority", "level", "description", "caller_phone",
                   "caller_name", "source")


def _number(body: Mapping[str, Any], name: str, lo: float, hi: float) -> float:
    v = body.get(name)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise Invalid(name, "must be a number")
    x = float(v)
    if not math.isfinite(x) or not lo <= x <= hi:
        raise Invalid(name, f"must be between {lo} and {hi}")
    return x


def _text(body: Mapping[str, Any], name: str, max_len: int, default: str = "") -> str:
    v = body.get(name, default)
    if v is None:
        v = default
    if not isinstance(v, str):
        raise Invalid(name, "must be a string")
    if len(v) > max_len:
        raise Invalid(name, f"must be at most {max_len} characters")
    if "\x00" in v:
        raise Invalid(name, "must not contain NUL characters")
    return v.strip()


def _choice(body: Mapping[str, Any], name: str, choices: Sequence[Any], default: Any = None
            ) -> Any:
    v = body.get(name, default)
    if v is None or isinstance(v, bool) or v not in choices:
        raise Invalid(name, f"must be one of {', '.join(map(str, choices))}")
    return v


def incident_fields(body: Any, types: Sequence[str],
                    bbox: tuple[float, float, float, float]) -> dict[str, Any]:
    """Checked fields (without ``district``, which the caller adds from the location)."""
    if not isinstance(body, Mapping):
        raise Invalid("body", "must be a JSON object")
    unknown = sorted(set(body) - set(INCIDENT_FIELDS))
    if unknown:
        raise Invalid(str(unknown[0]), "unknown field")
    lon0, lat0, lon1, lat1 = bbox
    priority = body.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise Invalid("priority", "must be an integer 1 (most urgent) to 5")
    phone = _text(body, "caller_phone", MAX_PHONE)
    if not PHONE_RE.match(phone):
        raise Invalid("caller_phone", "may contain digits, spaces, + - ( ) only")
    return {
        "type": _choice(body, "type", types),
        "lon": _number(body, "lon", lon0, lon1),
        "lat": _number(body, "lat", lat0, lat1),
        "priority": _choice(body, "priority", PRIORITIES),
        "level": _choice(body, "level", LEVELS, "IV"),
        "description": _text(body, "description", MAX_DESCRIPTION),
        "caller_phone": phone,
        "caller_name": _text(body, "caller_name", MAX_NAME),
        "source": _choice(body, "source", SOURCES, "api"),
    }
