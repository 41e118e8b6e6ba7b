"""Batch scoring of NAB-format CSVs (``run.py detect``) against the streaming detector."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.anomaly.batch import detect_path
from models.anomaly.univariate import UnivariateDetector
from models.series_csv import read_series

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "nab" / "speed_7578_head.csv"


def _read_out(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _synthetic_csv(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-03-01T00:00:00")
    with path.open("w") as fh:
        fh.write("timestamp,value\n")
        for k in range(n):
            t = str(start + np.timedelta64(5 * k, "m")).replace("T", " ")
            fh.write(f"{t},{50 + 10 * np.sin(k / 40) + rng.normal():.3f}\n")


def test_file_to_file_keeps_rows_and_order(tmp_path):
    out = tmp_path / "out.csv"
    assert detect_path(FIXTURE, out) == 1
    rows = _read_out(out)
    with FIXTURE.open(newline="") as fh:
        src = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert [(r["timestamp"], r["value"]) for r in rows] == [
        (r["timestamp"], r["value"]) for r in src
    ]
    scores = np.array([float(r["anomaly_score"]) for r in rows])
    assert np.all((scores >= 0) & (scores <= 1))


def test_batch_equals_stream_in_random_chunks(tmp_path):
    _synthetic_csv(tmp_path / "a.csv", 700, seed=1)
    out = tmp_path / "a_out.csv"
    detect_path(tmp_path / "a.csv", out)
    batch = np.array([float(r["anomaly_score"]) for r in _read_out(out)])
    _tt, _vt, ts, val = read_series(tmp_path / "a.csv")
    det = UnivariateDetector(1)
    rng = np.random.default_rng(3)
    parts, start = [], 0
    while start < len(val):
        end = min(len(val), start + int(rng.integers(1, 64)))
        s, _f = det.score_batch(np.zeros(end - start, np.int64), val[start:end], ts[start:end])
        parts.append(s)
        start = end
    np.testing.assert_array_equal(np.concatenate(parts), batch)
    assert batch.max() > 0.0  # not trivially all-neutral


def test_directory_tree_is_mirrored_and_files_are_independent(tmp_path):
    src = tmp_path / "in"
    (src / "x").mkdir(parents=True)
    _synthetic_csv(src / "x" / "a.csv", 400, seed=1)
    _synthetic_csv(src / "b.csv", 300, seed=2)
    (src / "notes.txt").write_text("ignored")
    assert detect_path(src, tmp_path / "out") == 2
    assert (tmp_path / "out" / "x" / "a.csv").exists()
    assert (tmp_path / "out" / "b.csv").exists()
    # a file scored alone gives the same numbers as inside the tree
    detect_path(src / "x" / "a.csv", tmp_path / "alone.csv")
    alone = [r["anomaly_score"] for r in _read_out(tmp_path / "alone.csv")]
    tree = [r["anomaly_score"] for r in _read_out(tmp_path / "out" / "x" / "a.csv")]
    assert alone == tree


def test_bad_value_rows_are_scored_as_dropouts(tmp_path):
    path = tmp_path / "bad.csv"
    shutil.copy(FIXTURE, path)
    lines = path.read_text().splitlines()
    ts_text = lines[5].split(",")[0]
    lines[5] = f"{ts_text},oops"
    path.write_text("\n".join(lines) + "\n")
    detect_path(path, tmp_path / "o.csv")
    rows = _read_out(tmp_path / "o.csv")
    assert len(rows) == len(lines) - 1
    assert rows[4]["value"] == "oops" and float(rows[4]["anomaly_score"]) == 0.0


def test_missing_columns_raise_a_clear_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("time,reading\n2020-01-01 00:00:00,1\n")
    with pytest.raises(ValueError, match="timestamp,value"):
        detect_path(path, tmp_path / "o.csv")


def test_missing_input_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        detect_path(tmp_path / "nope.csv", tmp_path / "o.csv")


def test_timestamps_in_other_iso_forms_and_bad_ones(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "timestamp,value\n2020-01-01T00:00:00Z,1\n2020-01-01 01:00:00+01:00,2\nnot-a-time,3\n"
    )
    _tt, _vt, ts, val = read_series(path)
    assert ts.tolist() == [1577836800000, 1577836800000, 1577836800000]
    assert val.tolist() == [1.0, 2.0, 3.0]
