"""CLI contract of `run.py forecast`: forecast_path output shape, warm-up rows, trees."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from models.forecast.batch import forecast_path, forecast_series, infer_period_s
from models.forecast.config import DOMAIN_HORIZONS, horizon_grid
from models.series_csv import read_series

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "forecast" / "speed_7578_head.csv"


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="") as fh:
        return list(csv.reader(fh))


def test_file_output_has_one_row_per_input_row(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert forecast_path(FIXTURE, out, horizon=3) == 1
    rows = _read(out)
    src = _read(FIXTURE)
    assert rows[0] == ["timestamp", "value", "yhat_1", "yhat_2", "yhat_3", "lo_1", "lo_2",
                       "lo_3", "hi_1", "hi_2", "hi_3"]
    assert len(rows) == len(src)
    assert [r[:2] for r in rows[1:]] == [r[:2] for r in src[1:]]
    assert all(c == "" for c in rows[1][2:])  # warming up: empty
    last = [float(c) for c in rows[-1][2:]]
    assert all(lo <= y <= hi for y, lo, hi in zip(last[:3], last[3:6], last[6:], strict=True))


def test_file_output_equals_the_streaming_kernels(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    forecast_path(FIXTURE, out, horizon=2)
    _tt, _vt, ts, val = read_series(FIXTURE)
    assert infer_period_s(ts) == 300.0
    yhat, _lo, _hi = forecast_series(ts, val, 2)
    written = np.array([[float(c) if c else np.nan for c in r[2:4]] for r in _read(out)[1:]])
    np.testing.assert_allclose(written, yhat, rtol=1e-9, equal_nan=True)


def test_directory_tree_is_mirrored(tmp_path: Path) -> None:
    src = tmp_path / "in" / "realTraffic"
    src.mkdir(parents=True)
    shutil.copy(FIXTURE, src / "a.csv")
    shutil.copy(FIXTURE, src / "b.csv")
    assert forecast_path(tmp_path / "in", tmp_path / "out", horizon=1) == 2
    assert (tmp_path / "out" / "realTraffic" / "a.csv").is_file()
    assert (tmp_path / "out" / "realTraffic" / "b.csv").is_file()


def test_domain_horizons() -> None:
    assert DOMAIN_HORIZONS["traffic"].steps() == (3, 6, 12)
    assert DOMAIN_HORIZONS["air"].horizon() == 24
    assert DOMAIN_HORIZONS["tank_level"].horizon() == 96
    assert horizon_grid(12)[-1] == 12 and horizon_grid(1) == (1,)
