"""Batch scoring of NAB-format CSV files for ``python run.py detect INPUT OUTPUT``.

Why here: batch files must be scored by exactly the same kernel as the live stream, so this
module only parses files, gives each file a dense sensor index in ONE
:class:`~models.anomaly.univariate.UnivariateDetector` and writes the scores back. Scoring all
files in one kernel call is also the fast path.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "in.csv").write_text("timestamp,value\\n2020-01-01 00:00:00,1.0\\n")
>>> detect_path(d / "in.csv", d / "out.csv")
1
>>> (d / "out.csv").read_text().splitlines()[1]
'2020-01-01 00:00:00,1.0,0.0'
"""

from __future__ import annotations

import csv
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from models.anomaly.config import DetectorConfig
from models.anomaly.univariate import UnivariateDetector

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse_ts(text: str) -> int:
    """Epoch milliseconds of an ISO-like timestamp (naive times are taken as UTC)."""
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _parse_value(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def read_series(path: Path) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Read a ``timestamp,value`` CSV: raw timestamp and value texts, epoch ms and values.

    Unparseable values become NaN (scored as dropouts); an unparseable timestamp repeats the
    previous one so the row keeps its place. Missing columns raise ``ValueError``.
    """
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
    try:  # fast path: ISO timestamps, parsed by numpy (naive = UTC, offsets converted)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = np.array(ts_text, dtype="datetime64[ms]")
        if np.any(np.isnat(parsed)):
            raise ValueError("empty timestamp")
        ts = parsed.astype(np.int64)
    except ValueError:
        ts = np.zeros(len(ts_text), dtype=np.int64)
        last = 0
        for k, text in enumerate(ts_text):
            try:
                last = _parse_ts(text)
            except ValueError:
                pass
            ts[k] = last
    val = np.array([_parse_value(v) for v in val_text], dtype=np.float64)
    return ts_text, val_text, ts, val


def _write(path: Path, ts_text: list[str], val_text: list[str], score: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["timestamp", "value", "anomaly_score"])
        for t, v, s in zip(ts_text, val_text, score.tolist(), strict=True):
            writer.writerow([t, v, repr(float(s))])


def detect_path(
    input: Path, output: Path, config: DetectorConfig | None = None  # noqa: A002
) -> int:
    """Score a CSV file, or every ``*.csv`` under a directory, and write the scores.

    A file input writes the CSV ``output``; a directory input writes a tree under ``output``
    mirroring it (same relative paths and names). Files are separate sensors of one detector.
    Returns the number of files scored.
    """
    input, output = Path(input), Path(output)  # noqa: A001
    if input.is_dir():
        files = sorted(p for p in input.rglob("*.csv") if p.is_file())
        targets = [output / p.relative_to(input) for p in files]
    elif input.is_file():
        files, targets = [input], [output]
    else:
        raise FileNotFoundError(f"no such file or directory: {input}")
    series = [read_series(p) for p in files]
    empty = [np.zeros(0, np.int64)]
    idx = np.concatenate(
        [np.full(len(s[2]), k, dtype=np.int64) for k, s in enumerate(series)] or empty
    )
    ts = np.concatenate([s[2] for s in series] or empty)
    val = np.concatenate([s[3] for s in series] or [np.zeros(0)])
    detector = UnivariateDetector(len(files), config)
    score, _fault = detector.score_batch(idx, val, ts)
    start = 0
    for (ts_text, val_text, _t, _v), target in zip(series, targets, strict=True):
        end = start + len(ts_text)
        _write(target, ts_text, val_text, score[start:end])
        start = end
    return len(files)
