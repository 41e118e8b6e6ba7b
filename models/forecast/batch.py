"""Batch forecasting of NAB-format CSV files: ``python run.py forecast INPUT OUTPUT --horizon H``.

Why here: a file must be forecast by exactly the kernels of the live stream, so this module only
parses, infers the sampling period (median spacing of the timestamps), runs one
:class:`~models.forecast.streaming.StreamingForecaster` per file row by row, and writes
``timestamp,value,yhat_1..yhat_H,lo_1..lo_H,hi_1..hi_H`` (80 % interval), one row per input row,
with empty forecast cells while the forecaster warms up.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> rows = "".join(f"2020-01-01 {h:02d}:00:00,{h % 3}\\n" for h in range(24))
>>> _ = (d / "in.csv").write_text("timestamp,value\\n" + rows)
>>> forecast_path(d / "in.csv", d / "out.csv", horizon=2)
1
>>> (d / "out.csv").read_text().splitlines()[0]
'timestamp,value,yhat_1,yhat_2,lo_1,lo_2,hi_1,hi_2'
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from models.forecast.config import ForecastConfig
from models.forecast.streaming import StreamingForecaster
from models.series_csv import input_tree, read_series


def infer_period_s(ts_ms: npt.NDArray[np.int64], default_s: float = 300.0) -> float:
    """Sampling period in seconds: the median positive spacing of the timestamps.

    >>> infer_period_s(np.array([0, 300_000, 600_000, 1_500_000]))
    300.0
    """
    d = np.diff(ts_ms)
    d = d[d > 0]
    return float(np.median(d)) / 1000.0 if d.size else default_s


def forecast_series(
    ts_ms: npt.NDArray[np.int64],
    val: npt.NDArray[np.float64],
    horizon: int,
    period_s: float | None = None,
    config: ForecastConfig | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Forecasts made after each row for the next ``horizon`` steps: ``(yhat, lo, hi)``."""
    period = period_s if period_s is not None else infer_period_s(ts_ms)
    model = StreamingForecaster(1, period, horizon, config)
    return model.run_series(val, ts_ms)


def _fmt(x: float) -> str:
    return "" if math.isnan(x) else format(x, ".10g")


def _write(path: Path, rows: list[list[str]], yhat: npt.NDArray[np.float64],
           lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]) -> None:
    h = yhat.shape[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            ["timestamp", "value"]
            + [f"yhat_{k}" for k in range(1, h + 1)]
            + [f"lo_{k}" for k in range(1, h + 1)]
            + [f"hi_{k}" for k in range(1, h + 1)]
        )
        block = np.concatenate([yhat, lo, hi], axis=1).tolist()
        for row, cells in zip(rows, block, strict=True):
            writer.writerow(row + [_fmt(c) for c in cells])


def forecast_path(input: Path, output: Path, horizon: int) -> int:  # noqa: A002
    """Forecast a CSV file, or every ``*.csv`` under a directory, and write the results.

    A file input writes the CSV ``output``; a directory input writes a tree under ``output``
    mirroring it (same relative paths and names). Each file is its own sensor with its own
    inferred sampling period. Returns the number of files written.
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    files, targets = input_tree(input, output)
    for src, dst in zip(files, targets, strict=True):
        s = read_series(src)
        yhat, lo, hi = forecast_series(s.ts, s.val, horizon)
        _write(dst, [[t, v] for t, v in zip(s.ts_text, s.val_text, strict=True)], yhat, lo, hi)
    return len(files)
