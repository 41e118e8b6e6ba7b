"""Serialisation at the bus edge: bytes in, typed batches (and dead letters) out.

Two reading formats arrive on the readings topics:

* **columnar msgpack** (what our own publishers send; fast): a map
  ``{"v": 1, "sid": [str, ...], "val": <float64 LE bytes>, "ts": <int64 LE bytes>,
  "q": <uint8 bytes>}``. Decoding is one msgpack call plus ``numpy.frombuffer``.
* **JSON** (what an MQTT bridge or an external system sends): one object or a list
  of objects ``{"sensor_id": str, "value": number, "ts": epoch-ms int or ISO-8601
  string with offset, "quality"?: int}``; told apart by the first non-space byte
  (``{`` or ``[``, which are never the first byte of a columnar payload).

Decoding never raises on bad input: a payload that does not decode at all becomes a
single ``malformed`` :class:`DeadLetter` carrying (a bounded prefix of) the raw bytes;
in a JSON list, each bad element becomes its own dead letter and the good elements
beside it are kept. Physical plausibility (ranges, known ids, clocks) is checked
later by :mod:`streams.validation`.

>>> from streams.messages import ReadingBatch
>>> b = ReadingBatch.from_rows([("AIR-0001", 35.0, 1_700_000_000_000)])
>>> back, dead = decode_readings(encode_batch(b), "citycc.readings.air")
>>> back.sensor_ids, back.values.tolist(), dead
(('AIR-0001',), [35.0], [])
>>> back, dead = decode_readings(b'[{"sensor_id": "AIR-0001", "value": 1, '
...                              b'"ts": "2023-11-14T22:13:20Z"}, 7]', "t")
>>> back.ts.tolist(), [d.reason for d in dead]
([1700000000000], ['malformed'])
"""

from __future__ import annotations

import base64
import json
import math
import reprlib
from datetime import UTC, datetime
from typing import Any

import msgpack
import numpy as np

from streams.messages import SCHEMA_VERSION, DeadLetter, ReadingBatch, ScoreBatch

#: Raw bytes kept in a dead letter are cut to this many bytes (the topic is for
#: inspection, not for replaying megabyte payloads).
RAW_LIMIT = 2048
#: Cut for the repr of one bad JSON element.
ELEMENT_RAW_LIMIT = 512

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_JSON_START = frozenset(b"{[")
_WHITESPACE = b" \t\r\n"

_element_repr = reprlib.Repr()
_element_repr.maxlevel = 3
_element_repr.maxstring = 120
_element_repr.maxother = 120
_element_repr.maxdict = 8
_element_repr.maxlist = 8


class DecodeError(Exception):
    """A payload at the bus edge could not be turned into a typed message."""


# --------------------------------------------------------------------------- readings


def encode_batch(batch: ReadingBatch) -> bytes:
    """Columnar msgpack for a batch (the fast wire format of the readings topics)."""
    return msgpack.packb(
        {
            "v": SCHEMA_VERSION,
            "sid": list(batch.sensor_ids),
            "val": np.ascontiguousarray(batch.values, dtype="<f8").tobytes(),
            "ts": np.ascontiguousarray(batch.ts, dtype="<i8").tobytes(),
            "q": np.ascontiguousarray(batch.quality, dtype=np.uint8).tobytes(),
        },
        use_bin_type=True,
    )


def decode_readings(payload: bytes, topic: str) -> tuple[ReadingBatch, list[DeadLetter]]:
    """Readings from a columnar msgpack or JSON payload, plus dead letters for the bad parts.

    Never raises on bad input. The returned batch keeps the good records in payload order.
    """
    data = bytes(payload)
    stripped = data.lstrip(_WHITESPACE)
    if stripped and stripped[0] in _JSON_START:
        return _decode_json(data, topic)
    try:
        return decode_columnar(data), []
    except DecodeError as e:
        return _empty_batch(), [_malformed(str(e), topic, data)]


def decode_columnar(payload: bytes) -> ReadingBatch:
    """Strict decoder of the columnar msgpack format; raises :class:`DecodeError`."""
    try:
        obj = msgpack.unpackb(payload, raw=False, use_list=True, strict_map_key=True)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.StackError) as e:
        # msgpack's UnpackValueError, FormatError and unicode errors are ValueErrors
        raise DecodeError(f"not msgpack: {e}") from e
    if not isinstance(obj, dict):
        raise DecodeError(f"columnar payload must be a map, got {type(obj).__name__}")
    version = obj.get("v")
    if version != SCHEMA_VERSION or type(version) is not int:
        raise DecodeError(f"schema version {version!r} is not {SCHEMA_VERSION}")
    sid = obj.get("sid")
    if not isinstance(sid, list):
        raise DecodeError("field 'sid' must be a list of sensor ids")
    if sid and set(map(type, sid)) != {str}:
        raise DecodeError("field 'sid' holds a non-string sensor id")
    n = len(sid)
    values = _column(obj, "val", n, "<f8", required=True).astype(np.float64)
    ts = _column(obj, "ts", n, "<i8", required=True).astype(np.int64)
    quality = _column(obj, "q", n, "u1", required=False).astype(np.uint8)
    return ReadingBatch(tuple(sid), values, ts, quality)


def _column(obj: dict[str, Any], name: str, n: int, dtype: str, required: bool) -> np.ndarray:
    raw = obj.get(name)
    if raw is None and not required:
        return np.zeros(n, dtype)
    if not isinstance(raw, bytes):
        raise DecodeError(f"field {name!r} must be binary")
    width = np.dtype(dtype).itemsize
    if len(raw) != n * width:
        raise DecodeError(f"field {name!r} holds {len(raw)} bytes, expected {n} x {width}")
    # astype() by the caller copies: the arrays must own writable native memory
    return np.frombuffer(raw, dtype)


def _empty_batch() -> ReadingBatch:
    return ReadingBatch((), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.uint8))


def _malformed(detail: str, topic: str, raw: bytes) -> DeadLetter:
    return DeadLetter("malformed", detail[:500], topic, raw[:RAW_LIMIT])


# --------------------------------------------------------------------------- JSON readings


def _parse_int(text: str) -> int | float:
    # Bounded: huge literals become a float (usually inf) instead of a slow or refused int.
    return int(text) if len(text) <= 20 else float(text)


class _BadElement(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _decode_json(data: bytes, topic: str) -> tuple[ReadingBatch, list[DeadLetter]]:
    try:
        obj = json.loads(data, parse_int=_parse_int)
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError
        return _empty_batch(), [_malformed(f"not JSON: {e}", topic, data)]
    elements = obj if isinstance(obj, list) else [obj]
    ids: list[str] = []
    vals: list[float] = []
    tss: list[int] = []
    qs: list[int] = []
    dead: list[DeadLetter] = []
    for el in elements:
        try:
            sid, value, ts, q = _json_record(el)
        except _BadElement as bad:
            raw = _element_repr.repr(el).encode("utf-8", "replace")[:ELEMENT_RAW_LIMIT]
            dead.append(DeadLetter(bad.reason, bad.detail, topic, raw))
            continue
        ids.append(sid)
        vals.append(value)
        tss.append(ts)
        qs.append(q)
    batch = ReadingBatch(
        tuple(ids),
        np.array(vals, np.float64),
        np.array(tss, np.int64),
        np.array(qs, np.uint8),
    )
    return batch, dead


def _json_record(el: object) -> tuple[str, float, int, int]:
    if not isinstance(el, dict):
        raise _BadElement("malformed", f"reading must be a JSON object, got {type(el).__name__}")
    if "v" in el and el["v"] != SCHEMA_VERSION:
        raise _BadElement("malformed", f"schema version {el['v']!r} is not {SCHEMA_VERSION}")
    missing = [k for k in ("sensor_id", "value", "ts") if k not in el]
    if missing:
        raise _BadElement("malformed", f"missing field(s) {', '.join(missing)}")
    sid = el["sensor_id"]
    if not isinstance(sid, str):
        raise _BadElement("wrong_type", f"sensor_id must be a string, got {type(sid).__name__}")
    return sid, _json_value(el["value"]), _json_ts(el["ts"]), _json_quality(el.get("quality", 0))


def _json_value(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _BadElement("wrong_type", f"value must be a number, got {type(v).__name__}")
    try:
        return float(v)
    except OverflowError as e:  # an int literal of 20 digits or fewer fits; kept for safety
        raise _BadElement("out_of_range", "value does not fit a float64") from e


def _json_ts(t: object) -> int:
    if isinstance(t, bool):
        raise _BadElement("wrong_type", "ts must be epoch milliseconds or an ISO-8601 string")
    if isinstance(t, float):
        if not (math.isfinite(t) and t.is_integer()):
            raise _BadElement("wrong_type", f"ts {t!r} is not whole epoch milliseconds")
        t = int(t)
    if isinstance(t, int):
        if not _INT64_MIN <= t <= _INT64_MAX:
            raise _BadElement("wrong_type", "ts does not fit int64 epoch milliseconds")
        return t
    if isinstance(t, str):
        return _iso_to_ms(t)
    raise _BadElement("wrong_type", f"ts must be an int or a string, got {type(t).__name__}")


def _iso_to_ms(text: str) -> int:
    """ISO-8601 with a UTC offset (``Z`` or ``+08:00``) to epoch ms; naive times are refused."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise _BadElement("malformed", f"ts {text[:60]!r} is not ISO-8601") from e
    if when.tzinfo is None or when.utcoffset() is None:
        raise _BadElement("malformed", f"ts {text[:60]!r} has no UTC offset")
    try:
        delta = when - _EPOCH
    except OverflowError as e:  # years near 1 or 9999 shifted by their offset
        raise _BadElement("malformed", f"ts {text[:60]!r} is outside the epoch range") from e
    # integer arithmetic: exact to the millisecond, unlike timestamp() * 1000
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _json_quality(q: object) -> int:
    if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= 255:
        raise _BadElement("wrong_type", f"quality must be an int in 0..255, got {q!r:.40}")
    return q


# --------------------------------------------------------------------------- scores


def encode_scores(scores: ScoreBatch) -> bytes:
    """Columnar msgpack for the scores topic (same layout idea as readings)."""
    return msgpack.packb(
        {
            "v": SCHEMA_VERSION,
            "sid": list(scores.sensor_ids),
            "ts": np.ascontiguousarray(scores.ts, dtype="<i8").tobytes(),
            "score": np.ascontiguousarray(scores.score, dtype="<f8").tobytes(),
            "fault": np.ascontiguousarray(scores.fault, dtype=np.int8).tobytes(),
        },
        use_bin_type=True,
    )


def decode_scores(payload: bytes) -> ScoreBatch:
    """Inverse of :func:`encode_scores`; raises :class:`DecodeError` on anything else."""
    try:
        obj = msgpack.unpackb(bytes(payload), raw=False, strict_map_key=True)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.StackError) as e:
        raise DecodeError(f"not msgpack: {e}") from e
    if not isinstance(obj, dict) or obj.get("v") != SCHEMA_VERSION:
        raise DecodeError("not a version-1 score batch")
    sid = obj.get("sid")
    if not isinstance(sid, list) or (sid and set(map(type, sid)) != {str}):
        raise DecodeError("field 'sid' must be a list of sensor ids")
    n = len(sid)
    ts = _column(obj, "ts", n, "<i8", required=True).astype(np.int64)
    score = _column(obj, "score", n, "<f8", required=True).astype(np.float64)
    fault = _column(obj, "fault", n, "i1", required=True).astype(np.int8)
    return ScoreBatch(tuple(sid), ts, score, fault)


# --------------------------------------------------------------------------- dead letters


def encode_dead_letter(dl: DeadLetter) -> bytes:
    """JSON for the dead-letter topic: readable by any tool, raw bytes as base64."""
    return json.dumps(
        {
            "v": SCHEMA_VERSION,
            "reason": dl.reason,
            "detail": dl.detail,
            "topic": dl.source_topic,
            "raw": base64.b64encode(dl.raw[:RAW_LIMIT]).decode("ascii"),
        },
        ensure_ascii=True,
    ).encode("ascii")


def decode_dead_letter(payload: bytes) -> DeadLetter:
    """Inverse of :func:`encode_dead_letter` (for tools and tests); raises :class:`DecodeError`."""
    try:
        obj = json.loads(payload)
        return DeadLetter(
            str(obj["reason"]), str(obj["detail"]), str(obj["topic"]),
            base64.b64decode(obj["raw"], validate=True),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise DecodeError(f"not a dead letter: {e}") from e
