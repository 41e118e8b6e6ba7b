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
from pathlib import Path

import numpy as np

from models.anomaly.config import DetectorConfig
from models.anomaly.univariate import UnivariateDetector
from models.series_csv import input_tree, read_series


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
    files, targets = input_tree(input, output)
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
