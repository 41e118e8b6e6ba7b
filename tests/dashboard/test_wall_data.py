"""WallModel: status codes and KPIs from a latest-values snapshot, via models/indices."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dashboard.wall_data import WallModel
from streams.state.base import empty_latest


@pytest.fixture()
def city(small_city: Any) -> Any:
    return small_city


def _snap(city: Any, **by_metric: float) -> dict[str, np.ndarray]:
    snap = empty_latest(len(city.registry))
    for i, s in enumerate(city.registry.sensors):
        if s.metric in by_metric:
            v = by_metric[s.metric]
            snap["value"][i] = v * float(s.meta.get("free_speed_kmh", 1.0)) \
                if s.metric == "speed" else v
            snap["ts"][i] = 1_000.0
            snap["score"][i] = 0.0
    return snap


def test_no_data_gives_no_codes_and_empty_kpis(city: Any) -> None:
    f = WallModel(city).frame(empty_latest(len(city.registry)), now_ms=0)
    assert all(int(c.max()) == 0 for c in f.codes.values())
    assert f.kpis["aqi"] is None and f.kpis["pressure_pct"] is None
    assert f.ages_s["traffic"] is None


def test_free_flow_is_smooth_and_crawling_is_severe(city: Any) -> None:
    m = WallModel(city)
    smooth = m.frame(_snap(city, speed=1.0), now_ms=2_000)
    jam = m.frame(_snap(city, speed=0.2), now_ms=2_000)  # TTI 5 → DTP 0.8 → TPI 10
    assert smooth.kpis["tpi"] == 0.0 and smooth.kpis["tpi_level"] == 1
    assert jam.kpis["tpi_level"] == 5 and jam.kpis["congested_pct"] == 100.0
    assert set(np.unique(jam.codes["roads"])) <= {0, 5}
    assert jam.ages_s["traffic"] == pytest.approx(1.0)


def test_city_aqi_and_primary_pollutant(city: Any) -> None:
    f = WallModel(city).frame(_snap(city, pm25=80.0, pm10=50.0, so2=5.0, no2=20.0, co=0.5,
                                    o3=50.0), now_ms=0)
    assert f.kpis["aqi"] == 119  # PM2.5 80 µg/m³ → IAQI 119 (HJ 633—2026 PM breakpoints)
    assert f.kpis["aqi_level"] == 3 and f.kpis["primary"] == ["PM2.5"]
    assert set(np.unique(f.codes["air"])) == {3}


def test_low_pressure_and_gas_alarms(city: Any) -> None:
    f = WallModel(city).frame(_snap(city, pressure=0.1, lel=30.0), now_ms=0)
    assert f.kpis["pressure_pct"] == 0.0
    assert set(np.unique(f.codes["water"])) == {3}
    assert f.kpis["alarm1"] >= 1 and f.kpis["alarm2"] == 0
    assert int(f.codes["cells"].max()) == 3  # warning: worst of the cells' sensors


def test_derived_ticker_is_newest_first(city: Any) -> None:
    snap = empty_latest(len(city.registry))
    snap["value"][:3] = 1.0
    snap["ts"][:3] = [100.0, 300.0, 200.0]
    snap["score"][:3] = [0.9, 0.85, 0.99]
    f = WallModel(city).frame(snap, now_ms=400)
    assert [e["ts"] for e in f.ticker] == [300, 200, 100]
    assert f.ticker_derived and f.ticker[1]["level"] == 3 and f.ticker[0]["level"] == 4


def test_dispatch_and_alert_documents_are_read(city: Any) -> None:
    unit = city.units[0]
    f = WallModel(city).frame(
        empty_latest(len(city.registry)), now_ms=0,
        alerts=[{"id": "A1", "level": 2, "state": "active_unack", "title_zh": "爆管",
                 "title_en": "Pipe burst", "last_ts": 50},
                {"id": "A2", "level": 1, "state": "cleared_ack", "last_ts": 60}],
        units=[{"id": unit.unit_id, "type": unit.kind, "status": "en_route", "lon": 119.3,
                "lat": 26.1}],
        incidents=[{"id": "I1", "type": "fire", "level": 2, "status": "on_scene", "lon": 119.3,
                    "lat": 26.1}, {"id": "I2", "level": 1, "status": "closed"}])
    assert [e["id"] for e in f.ticker] == ["A1"] and not f.ticker_derived
    assert f.ticker[0]["title"]["en"] == "Pipe burst"
    assert f.units[0]["state"] == "dispatched" and f.units[0]["lon"] == 119.3
    assert f.kpis["incidents"] == 1 and f.kpis["incidents_by_level"] == [0, 1, 0, 0]
