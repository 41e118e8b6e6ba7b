"""Replay of recorded data sets: timing, values, mapping, errors - from the shipped extracts."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import numpy as np
import pytest

from config.city.registry import Sensor, SensorRegistry
from streams.messages import QUALITY_BAD, ReadingBatch
from streams.sources.recorded import EXTRACTS_DIR
from streams.sources.replay import (
    METRICS,
    ReplayMappingError,
    ReplaySource,
    replay_registry,
)

START = 1_700_000_000_000
HOUR_MS = 3_600_000


def _extract_rows(rel: str) -> list[dict[str, str]]:
    """Parse a shipped extract independently of the product's readers."""
    text = gzip.decompress((EXTRACTS_DIR / rel).read_bytes()).decode()
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader)]
    return [dict(zip(header, (c.strip() for c in r), strict=True)) for r in reader if r]


def _series(batch: ReadingBatch, sensor_id: str) -> tuple[np.ndarray, np.ndarray]:
    sel = np.array([s == sensor_id for s in batch.sensor_ids])
    return batch.ts[sel], batch.values[sel]


def _all(src: ReplaySource) -> ReadingBatch:
    return src.step(src.end_ms)


def test_extracts_live_in_the_repository_and_are_small() -> None:
    repo = Path(__file__).resolve().parents[3]
    assert EXTRACTS_DIR.is_relative_to(repo)
    total = sum(p.stat().st_size for p in EXTRACTS_DIR.rglob("*.gz"))
    assert 0 < total < 3_000_000
    assert (EXTRACTS_DIR / "nab" / "LICENSE.txt").read_text().startswith("Copyright")


def test_unknown_data_set_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown data set 'weather'.*beijing_air"):
        ReplaySource(replay_registry(["tep"]), ["weather"], speed=1.0, start_ms=START)
    with pytest.raises(ValueError, match="unknown data set"):
        replay_registry(["nab_traffic", "nope"])


def test_same_inputs_give_identical_batches() -> None:
    reg = replay_registry()
    a = ReplaySource(reg, speed=600.0, start_ms=START)
    b = ReplaySource(reg, speed=600.0, start_ms=START)
    for now in (START - 1, START, START + 7_777, START + 600_000, START + 10**8):
        x, y = a.step(now), b.step(now)
        assert x.sensor_ids == y.sensor_ids
        assert np.array_equal(x.ts, y.ts)
        assert np.array_equal(x.values, y.values, equal_nan=True)


def test_rows_appear_at_scaled_recorded_time() -> None:
    speed = 3600.0  # one recorded hour per replayed second
    src = ReplaySource(replay_registry(["beijing_air"]), ["beijing_air"], speed=speed,
                       start_ms=START)  # fmt: skip
    assert len(src.step(START - 1)) == 0
    first = src.step(START + 4_999)  # hours 0..4 of the recording
    ts, _ = _series(first, "RP-AIR-DONGSI-PM25")
    assert ts.tolist() == [START + 1000 * h for h in range(5)]
    assert len(first) == 5 * 72  # 12 sites x 6 pollutants, every hour present as a row
    second = src.step(START + 5_000)  # exactly hour 5: emitted once, not again
    assert set(second.ts.tolist()) == {START + 5_000}
    assert len(src.step(START + 5_000)) == 0
    assert np.all(np.diff(first.ts) >= 0)


def test_incremental_steps_emit_every_row_once() -> None:
    reg = replay_registry()
    whole = _all(ReplaySource(reg, speed=900.0, start_ms=START))
    src = ReplaySource(reg, speed=900.0, start_ms=START)
    parts = []
    now = START
    while not src.exhausted:
        now += 123_457
        b = src.step(now)
        assert len(b) == 0 or int(b.ts.max()) <= now
        parts.append(b)
    joined = ReadingBatch.concat(parts)
    assert len(joined) == len(whole)
    key = np.lexsort((np.array(joined.sensor_ids), joined.ts))
    key_w = np.lexsort((np.array(whole.sensor_ids), whole.ts))
    assert np.array_equal(joined.ts[key], whole.ts[key_w])


def test_beijing_values_and_co_unit_conversion() -> None:
    rows = _extract_rows("beijing_air/PRSA_Data_Dongsi_20130301-20170228.csv.gz")
    batch = _all(ReplaySource(replay_registry(["beijing_air"]), ["beijing_air"],
                              speed=1.0, start_ms=START))  # fmt: skip
    for col, sid, scale in (("CO", "RP-AIR-DONGSI-CO", 0.001), ("PM2.5", "RP-AIR-DONGSI-PM25", 1)):
        expect = np.array([float("nan") if r[col] == "NA" else float(r[col]) * scale for r in rows])
        ts, got = _series(batch, sid)
        np.testing.assert_allclose(got, expect, rtol=1e-12, equal_nan=True)
        assert np.all(np.diff(ts) == HOUR_MS)
    assert float(rows[0]["CO"]) == 9200.0  # first hour of the window: 9.2 mg/m3
    assert _series(batch, "RP-AIR-DONGSI-CO")[1][0] == pytest.approx(9.2)


def test_batadal_pressure_in_mpa_and_levels_unchanged() -> None:
    rows = _extract_rows("batadal/BATADAL_dataset04.csv.gz")
    batch = _all(ReplaySource(replay_registry(["batadal"]), ["batadal"], speed=60.0,
                              start_ms=START))  # fmt: skip
    _, p = _series(batch, "RP-WATER-J280-PRESSURE")
    np.testing.assert_allclose(p, [float(r["P_J280"]) * 0.00980665 for r in rows], rtol=1e-12)
    ts, lvl = _series(batch, "RP-WATER-T1-LEVEL")
    np.testing.assert_array_equal(lvl, [float(r["L_T1"]) for r in rows])
    assert np.all(np.diff(ts) == HOUR_MS // 60)
    _, status = _series(batch, "RP-WATER-PU2-STATUS")
    assert set(np.unique(status)) <= {0.0, 1.0}


def test_nab_speed_in_kmh_and_taxi_per_hour() -> None:
    speed_rows = _extract_rows("nab/data/realTraffic/speed_6005.csv.gz")
    taxi_rows = _extract_rows("nab/data/realKnownCause/nyc_taxi.csv.gz")
    batch = _all(ReplaySource(replay_registry(["nab_traffic"]), ["nab_traffic"], speed=1.0,
                              start_ms=START))  # fmt: skip
    _, v = _series(batch, "RP-TRAFFIC-6005-SPEED")
    np.testing.assert_allclose(v, [float(r["value"]) * 1.609344 for r in speed_rows])
    ts, taxi = _series(batch, "RP-TRAFFIC-NYCTAXI-FLOW")
    np.testing.assert_array_equal(taxi, [2 * float(r["value"]) for r in taxi_rows])
    assert ts[0] == START and np.all(np.diff(ts) == 1_800_000)  # each recording starts at START


def test_tep_plays_normal_then_fault_every_three_minutes() -> None:
    d06 = _extract_rows("tep/d06_te.csv.gz")
    batch = _all(ReplaySource(replay_registry(["tep"]), ["tep"], speed=1.0, start_ms=START))
    ts, p = _series(batch, "RP-HAZARD-TEP-XMEAS07")  # reactor pressure, kPa
    assert len(p) == 1920 and np.all(np.diff(ts) == 180_000)
    np.testing.assert_array_equal(p[960:], [float(r["XMEAS(7)"]) for r in d06])
    assert p[960 + 900] > p[:960].max() + 100  # A-feed loss drives the reactor pressure up


def test_standalone_sensors_cover_every_recorded_value() -> None:
    reg = replay_registry()
    batch = _all(ReplaySource(reg, speed=1.0, start_ms=START))
    idx = reg.indices(batch.sensor_ids)
    assert np.all(idx >= 0)
    ok = np.isfinite(batch.values)
    assert np.all((batch.values[ok] >= reg.lo[idx[ok]]) & (batch.values[ok] <= reg.hi[idx[ok]]))
    assert all(s.unit == METRICS[s.metric][0] for s in reg.sensors)
    assert len({s.sensor_id for s in reg.sensors}) == len(reg) == 8 + 72 + 43 + 52


def test_missing_values_become_bad_nan_or_are_skipped() -> None:
    reg = replay_registry(["beijing_air"])
    with_nan = _all(ReplaySource(reg, ["beijing_air"], speed=1.0, start_ms=START))
    skipped = _all(ReplaySource(reg, ["beijing_air"], speed=1.0, start_ms=START, missing="skip"))
    n_nan = int(np.isnan(with_nan.values).sum())
    assert n_nan > 0
    assert np.all(with_nan.quality[np.isnan(with_nan.values)] == QUALITY_BAD)
    assert len(skipped) == len(with_nan) - n_nan and not np.isnan(skipped.values).any()


def test_loop_starts_over_one_period_after_the_end() -> None:
    src = ReplaySource(replay_registry(["tep"]), ["tep"], speed=180.0, start_ms=0, loop=True)
    assert src.end_ms == 1919 * 1000
    first = src.step(1919 * 1000)
    again = src.step(1920 * 1000)  # one 3-min period (1 s replayed) after the last row
    assert len(again) == 52 and set(again.ts.tolist()) == {1920 * 1000}
    np.testing.assert_array_equal(again.values, first.values[:52])
    assert not src.exhausted


def _city(extra: list[Sensor] | None = None) -> SensorRegistry:
    """A registry shaped like a city model: its own ids, assets and ranges."""

    def s(sid: str, dom: str, metric: str, asset: str, hi: float) -> Sensor:
        return Sensor(sid, dom, metric, "", 119.3, 26.1, "350102", "", 0.0, hi, asset, 60)  # type: ignore[arg-type]

    sensors = [s("TRF-0002", "traffic", "speed_kmh", "SEG-2", 200.0),
               s("TRF-0001", "traffic", "speed_kmh", "SEG-1", 200.0),
               s("TRF-0003", "traffic", "occupancy_pct", "SEG-1", 100.0),
               s("TRF-0004", "traffic", "flow_vph", "SEG-1", 3000.0),
               s("TRF-0005", "traffic", "flow_vph", "SEG-3", 150_000.0)]  # fmt: skip
    for st in ("AQS-02", "AQS-01"):
        for m in ("pm25", "pm10", "no2"):
            sensors.append(s(f"{st}-{m}", "air", m, st, 5000.0))
    return SensorRegistry(sensors + (extra or []))


def test_mapping_onto_a_city_registry_is_deterministic_and_grouped() -> None:
    reg = _city()
    src = ReplaySource(reg, ["nab_traffic", "beijing_air"], speed=60.0, start_ms=START)
    again = ReplaySource(reg, ["nab_traffic", "beijing_air"], speed=60.0, start_ms=START)
    assert src.mapping == again.mapping
    m = src.mapping
    # station 6005's speed and occupancy share one road segment (the asset with both)
    assert m[("nab_realtraffic", "6005-SPEED")] == "TRF-0001"
    assert m[("nab_realtraffic", "6005-OCC")] == "TRF-0003"
    assert m[("nab_realtraffic", "T4013-SPEED")] == "TRF-0002"  # the other free speed sensor
    assert ("nab_realtraffic", "T4013-OCC") in src.unmapped
    # taxi demand (up to ~80 000/h) goes to the flow sensor whose range covers it
    assert m[("nab_nyc_taxi", "NYCTAXI-FLOW")] == "TRF-0005"
    # the first two Beijing sites take the two stations, in asset-id order
    assert m[("beijing_air", "AOTIZHONGXIN-PM25")] == "AQS-01-pm25"
    assert m[("beijing_air", "AOTIZHONGXIN-NO2")] == "AQS-01-no2"
    assert m[("beijing_air", "CHANGPING-PM10")] == "AQS-02-pm10"
    assert ("beijing_air", "AOTIZHONGXIN-SO2") in src.unmapped  # no so2 sensor here
    batch = src.step(START + 10**9)
    assert set(batch.sensor_ids) <= set(reg.ids)


def test_registry_without_needed_sensors_is_a_clear_error() -> None:
    with pytest.raises(ReplayMappingError, match="'batadal'.*water sensor with metric"):
        ReplaySource(_city(), ["batadal"], speed=1.0, start_ms=START)
    with pytest.raises(ReplayMappingError, match="replay_registry"):
        ReplaySource(_city(), ["tep"], speed=1.0, start_ms=START)


def test_data_dir_reads_the_upstream_layout(tmp_path: Path) -> None:
    (tmp_path / "tep").mkdir()
    row = " ".join(f"{v:.7e}" for v in np.arange(52) + 0.5)
    (tmp_path / "tep" / "d00_te.dat").write_text(f"  {row}\n  {row}\n")
    (tmp_path / "tep" / "d06_te.dat").write_text(f"  {row}\n")
    src = ReplaySource(replay_registry(["tep"]), ["tep"], speed=1.0, start_ms=0,
                       data_dir=tmp_path)  # fmt: skip
    batch = _all(src)
    assert len(batch) == 3 * 52 and batch.ts.max() == 2 * 180_000
    assert _series(batch, "RP-HAZARD-TEP-XMV11")[1].tolist() == [51.5] * 3


def test_city_metric_aliases_and_units_are_converted() -> None:
    def s(sid: str, dom: str, metric: str, unit: str, asset: str, hi: float) -> Sensor:
        return Sensor(sid, dom, metric, unit, 119.3, 26.1, "350102", "", 0.0, hi, asset, 60)  # type: ignore[arg-type]

    reg = SensorRegistry(
        [s("WTR-1-pressure", "water", "pressure", "MPa", "N-1", 1.6),
         s("WTR-1-flow", "water", "flow", "m3/h", "N-1", 5000.0),
         s("WTR-T1-level", "water", "tank_level", "m", "WT-1", 10.0),
         s("HAZ-1-pressure", "hazard", "pressure", "MPa", "HS-1", 4.0),
         s("HAZ-1-temperature", "hazard", "temperature", "degC", "HS-1", 150.0),
         s("HAZ-1-lel", "hazard", "lel", "%LEL", "HS-1", 100.0)]
    )  # fmt: skip
    src = ReplaySource(reg, ["batadal", "tep"], speed=1.0, start_ms=START)
    assert src.mapping[("batadal", "T1-LEVEL")] == "WTR-T1-level"
    assert src.mapping[("batadal", "PU1-FLOW")] == "WTR-1-flow"
    assert src.mapping[("tep", "TEP-XMEAS07")] == "HAZ-1-pressure"  # first kPa series
    batch = _all(src)
    rows = _extract_rows("batadal/BATADAL_dataset04.csv.gz")
    np.testing.assert_allclose(
        _series(batch, "WTR-1-flow")[1], [float(r["F_PU1"]) * 3.6 for r in rows]
    )  # L/s -> m3/h
    d00 = _extract_rows("tep/d00_te.csv.gz")
    np.testing.assert_allclose(
        _series(batch, "HAZ-1-pressure")[1][:960], [float(r["XMEAS(7)"]) / 1000 for r in d00]
    )  # kPa -> MPa
    assert ("tep", "TEP-XMEAS01") in src.unmapped  # no flow sensor at the plant


def test_replay_reads_only_the_shipped_extracts(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.sources.recorded import readers

    opened: list[Path] = []
    real = readers.resolve

    def spy(root: Path, logical: str) -> Path:
        path = real(root, logical)
        opened.append(path)
        return path

    monkeypatch.setattr(readers, "resolve", spy)
    ReplaySource(replay_registry(), speed=1.0, start_ms=START)
    assert len(opened) == 7 + 1 + 12 + 1 + 2
    assert all(p.is_relative_to(EXTRACTS_DIR) and p.suffix == ".gz" for p in opened)
