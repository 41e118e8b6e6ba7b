"""NAB-format series files (``timestamp,value``) for the batch contracts of ``run.py``.

``detect`` and ``forecast`` read the same inputs — one CSV, or a tree of them mirrored
into an output tree — so the reading rules live here once: missing columns are a clear
``ValueError``; an unparseable value is NaN (a dropout for the models); an unparseable
timestamp repeats the previous one so the row keeps its place in the output.

>>> parse_timestamp("1970-01-01 00:01:00"), parse_timestamp("60")
(60000, 60000)
"""

from __future__ import annotations

import csv
import math
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Series(NamedTuple):
    """One file: the raw texts (written back unchanged) and the parsed columns."""

    ts_text: list[str]
    val_text: list[str]
    ts: npt.NDArray[np.int64]  # epoch milliseconds
    val: npt.NDArray[np.float64]


def parse_timestamp(text: str) -> int:
    """Epoch milliseconds of an ISO-8601 timestamp (naive = UTC) or of a number of seconds."""
    text = text.strip()
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def read_series(path: Path) -> Series:
    """Read a ``timestamp,value`` CSV (other columns are ignored)."""
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file, expected columns timestamp,value")
        names = [h.strip().lower() for h in header]
        if "timestamp" not in names or "value" not in names:
            raise ValueError(f"{path}: expected columns timestamp,value, found {header}")
        it, iv = names.index("timestamp"), names.index("value")
        ts_text: list[str] = []
        val_text: list[str] = []
        for row in reader:
            if not row:
                continue
            ts_text.append(row[it] if it < len(row) else "")
            val_text.append(row[iv] if iv < len(row) else "")
    return Series(ts_text, val_text, _timestamps(ts_text),
                  np.array([_value(v) for v in val_text], dtype=np.float64))


def _timestamps(texts: list[str]) -> npt.NDArray[np.int64]:
    try:  # fast path: ISO timestamps parsed by numpy (naive = UTC)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = np.array(texts, dtype="datetime64[ms]")
        if not np.any(np.isnat(parsed)):
            return parsed.astype(np.int64)
    except ValueError:
        pass
    ts = np.zeros(len(texts), dtype=np.int64)
    last = 0
    for k, text in enumerate(texts):
        try:
            last = parse_timestamp(text)
        except ValueError:
            pass
        ts[k] = last
    return ts


def input_tree(input: Path, output: Path) -> tuple[list[Path], list[Path]]:  # noqa: A002
    """Files to read and where each result goes: one file → ``output``; a folder → every
    ``*.csv`` below it, written to the same relative path under ``output``."""
    input, output = Path(input), Path(output)  # noqa: A001
    if input.is_dir():
        files = sorted(p for p in input.rglob("*.csv") if p.is_file())
        return files, [output / p.relative_to(input) for p in files]
    if input.is_file():
        return [input], [output]
    raise FileNotFoundError(f"no such file or directory: {input}")
