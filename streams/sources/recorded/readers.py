"""Read recorded files (full upstream copies or the shipped gzipped extracts) into arrays.

Each reader returns a :class:`RecordedTable`: long-format rows (recorded time in epoch
ms UTC, series index into the recording's specs, value already converted to the city
unit) sorted by time, then series order. Missing upstream values (``NA``) are NaN.

Both layouts resolve the same logical file name: ``<root>/<file>.csv.gz`` (extract) or
``<root>/<file>.csv`` / ``<root>/<file>.dat`` (upstream).

>>> from streams.sources.recorded import EXTRACTS_DIR
>>> from streams.sources.recorded.catalog import DATASETS
>>> t = read_recording(DATASETS["tep"][0], EXTRACTS_DIR)
>>> len(t.ts_ms) == 2 * 960 * 52, int(t.ts_ms[52] - t.ts_ms[0])
(True, 180000)
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from streams.sources.recorded.catalog import TEP_COLUMNS, RecordingSpec

BEIJING_UTC_OFFSET_MS = 8 * 3600 * 1000  # the Beijing files are in local time (UTC+8)


class RecordedDataError(RuntimeError):
    """A recorded file is missing or does not have the expected shape."""


@dataclass(frozen=True, slots=True, eq=False)
class RecordedTable:
    spec: RecordingSpec
    ts_ms: npt.NDArray[np.int64]
    series: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def resolve(root: Path, logical: str) -> Path:
    """The file for a logical name under ``root``, preferring the gzipped extract."""
    for ext in (".csv.gz", ".csv", ".dat"):
        p = root / (logical + ext)
        if p.is_file():
            return p
    raise RecordedDataError(f"no recorded file {logical}.csv.gz/.csv/.dat under {root}")


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def _float(cell: str) -> float:
    cell = cell.strip()
    return float("nan") if cell in ("", "NA", "NaN", "nan") else float(cell)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(_text(path)))
    header = [h.strip() for h in next(reader)]
    return header, [r for r in reader if r]


def _wide(
    spec: RecordingSpec, file: str, ts_ms: npt.NDArray[np.int64], table: dict[str, list[float]]
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """Long-format pieces for every series of ``spec`` stored in ``file``."""
    pieces = []
    for i, s in enumerate(spec.series):
        if s.file != file and spec.reader != "tep":
            continue
        if s.column not in table:
            raise RecordedDataError(f"{file}: column {s.column!r} missing")
        vals = np.asarray(table[s.column], np.float64) * s.scale
        pieces.append((ts_ms, np.full(len(ts_ms), i, np.int64), vals))
    return pieces


def _nab(spec: RecordingSpec, root: Path, file: str, _: int) -> tuple[np.ndarray, dict]:
    header, rows = _rows(resolve(root, file))
    ts = np.array([r[0][:19] for r in rows], dtype="datetime64[ms]").astype(np.int64)
    return ts, {"value": [_float(r[1]) for r in rows]}


def _beijing(spec: RecordingSpec, root: Path, file: str, _: int) -> tuple[np.ndarray, dict]:
    header, rows = _rows(resolve(root, file))
    col = {h: j for j, h in enumerate(header)}
    stamps = [
        f"{int(r[col['year']]):04d}-{int(r[col['month']]):02d}-{int(r[col['day']]):02d}"
        f"T{int(r[col['hour']]):02d}"
        for r in rows
    ]
    ts = np.array(stamps, dtype="datetime64[h]").astype("datetime64[ms]").astype(np.int64)
    wanted = {s.column for s in spec.series}
    return ts - BEIJING_UTC_OFFSET_MS, {
        h: [_float(r[j]) for r in rows] for h, j in col.items() if h in wanted
    }


def _batadal(spec: RecordingSpec, root: Path, file: str, _: int) -> tuple[np.ndarray, dict]:
    header, rows = _rows(resolve(root, file))
    stamps = []
    for r in rows:
        date, hour = r[0].strip().split(" ")
        d, m, y = date.split("/")
        stamps.append(f"20{y}-{m}-{d}T{hour}")
    ts = np.array(stamps, dtype="datetime64[h]").astype("datetime64[ms]").astype(np.int64)
    return ts, {h: [_float(r[j]) for r in rows] for j, h in enumerate(header) if j > 0}


def _tep(spec: RecordingSpec, root: Path, file: str, row0: int) -> tuple[np.ndarray, dict]:
    path = resolve(root, file)
    if path.suffix == ".dat":
        mat = np.loadtxt(io.StringIO(_text(path)), dtype=np.float64, ndmin=2)
    else:
        header, rows = _rows(path)
        if tuple(header) != TEP_COLUMNS:
            raise RecordedDataError(f"{path}: unexpected TEP header")
        mat = np.array([[_float(c) for c in r] for r in rows], np.float64)
    if mat.shape[1] != len(TEP_COLUMNS):
        raise RecordedDataError(f"{path}: expected 52 columns, got {mat.shape[1]}")
    # no time stamps upstream: one sample every 3 minutes, files played back to back
    ts = (row0 + np.arange(len(mat), dtype=np.int64)) * spec.period_s * 1000
    return ts, {c: mat[:, j].tolist() for j, c in enumerate(TEP_COLUMNS)}


_READERS: dict[str, Callable[..., tuple[np.ndarray, dict]]] = {
    "nab": _nab,
    "beijing": _beijing,
    "batadal": _batadal,
    "tep": _tep,
}


def read_recording(spec: RecordingSpec, root: Path) -> RecordedTable:
    """All series of one recording as sorted long-format arrays (see module doc)."""
    read = _READERS[spec.reader]
    pieces = []
    row0 = 0
    for file in spec.files:
        ts, table = read(spec, root, file, row0)
        row0 += len(ts)
        pieces.extend(_wide(spec, file, ts.astype(np.int64), table))
    ts_all = np.concatenate([p[0] for p in pieces])
    ser = np.concatenate([p[1] for p in pieces])
    val = np.concatenate([p[2] for p in pieces])
    order = np.lexsort((ser, ts_all))  # time first, then catalogue order
    return RecordedTable(spec, ts_all[order], ser[order], val[order])
