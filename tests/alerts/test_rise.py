"""The particulate build-up rule (alerts/rise.py): early warning of a pollution episode."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.engine import AlertEngine
from alerts.model import ACTIVE
from alerts.rise import ParticulateRise, RiseParams
from tests.alerts.conftest import T0, make_feeder, rules_with

MIN = 60_000


def _series(
    minutes: int,
    seed: int,
    ramp_at: int | None = None,
    gain: float = 2.45,
    rise_min: float = 180.0,
    cycle: float = 0.25,
) -> np.ndarray:
    """PM concentration every minute: daily cycle, 7 % white noise, optional linear ramp."""
    rng = np.random.default_rng(seed)
    t = np.arange(minutes)
    hour = (t / 60.0) % 24
    level = 30.0 * (1.0 + cycle * np.cos(2 * np.pi * (hour - 6.0) / 24.0))
    if ramp_at is not None:
        level = level * (1.0 + gain * np.clip((t - ramp_at) / rise_min, 0.0, 1.0))
    return level * (1.0 + 0.07 * rng.standard_normal(minutes))


def _run(pm25: np.ndarray, pm10: np.ndarray, params: RiseParams | None = None) -> np.ndarray:
    """Feed one station minute by minute → the CUSUM after each PM2.5 reading."""
    rise = ParticulateRise(np.array([[0, 1]]), 2, params)
    out = np.zeros(pm25.size)
    for k in range(pm25.size):
        st, s, _, _ = rise.update(
            np.array([0, 1]), np.array([k * MIN, k * MIN]), np.array([pm25[k], pm10[k]])
        )
        out[k] = s[0] if st.size else np.nan
    return out


def test_quiet_on_noise_and_the_daily_cycle():
    p = RiseParams()
    for seed in range(4):
        s = _run(_series(3 * 1440, seed), 1.4 * _series(3 * 1440, 100 + seed))
        assert np.nanmax(s) < p.h, seed


def test_episode_ramp_breaches_within_an_hour_and_before_the_aqi_category():
    p = RiseParams()
    onset = 1440
    pm25 = _series(onset + 240, 7, ramp_at=onset)
    pm10 = 1.4 * _series(onset + 240, 8, ramp_at=onset, gain=2.1)
    s = _run(pm25, pm10)
    assert np.nanmax(s[:onset]) < p.h
    first = int(np.flatnonzero(s >= p.h)[0]) - onset
    assert 0 < first <= 45
    # the AQI rule's category (PM2.5 ≥ 115 µg/m³, 中度污染) is hours away at that point
    assert pm25[onset + first] < 75.0


def test_one_drifting_monitor_does_not_raise_it():
    pm25 = _series(1440 + 240, 3, ramp_at=1440)  # the PM2.5 analyser drifts up
    pm10 = 1.4 * _series(1440 + 240, 4)  # PM10 at the same station stays normal
    assert np.nanmax(_run(pm25, pm10)) < RiseParams().h


def test_no_statistic_before_warm_up_or_without_a_fresh_partner():
    rise = ParticulateRise(np.array([[0, 1]]), 2, RiseParams(min_readings=5))
    for k in range(5):
        st, _, _, _ = rise.update(np.array([0, 1]), np.array([k * MIN] * 2), np.array([30.0, 40.0]))
        assert st.size == 0
    st, _, _, _ = rise.update(np.array([0, 1]), np.array([5 * MIN] * 2), np.array([30.0, 40.0]))
    assert st.tolist() == [0]
    # PM10 silent for 10 minutes: no CUSUM step (coherence cannot be checked)
    st, _, _, _ = rise.update(np.array([0]), np.array([16 * MIN]), np.array([90.0]))
    assert st.size == 0


@pytest.mark.parametrize(
    "bad",
    [{"h": 0.5, "clear_s": 1.0}, {"tau_base_s": 0}, {"floor": -1}, {"s_max": 4}, {"k": "high"}],
)
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValueError, match="air_rise"):
        RiseParams.from_rule(bad)


def test_engine_raises_a_level_iv_air_rise_alert_and_clears_it(registry, service, clock):
    rules = rules_with(air_rise={"min_readings": 30, "clear_after": 5})
    eng = AlertEngine(registry, service, rules)
    feed = make_feeder(eng, registry, clock)
    n = 24 * 60 + 300
    pm25 = _series(n, 11, ramp_at=1440)
    pm10 = 1.4 * _series(n, 12, ramp_at=1440, gain=2.1)
    raised_at = None
    for k in range(n):
        feed(
            {
                "A1-pm25": pm25[k],
                "A1-pm10": pm10[k],
                "A1-so2": 8.0,
                "A1-no2": 20.0,
                "A1-co": 0.5,
                "A1-o3": 40.0,
            },
            T0 + k * MIN,
        )
        active = [a for a in service.store.alerts(state=ACTIVE) if a.type == "air_rise"]
        if active and raised_at is None:
            raised_at = k
            [a] = active
            assert a.base_level == 4 and a.kind == "city"
            assert "颗粒物" in a.title_zh and "rising" in a.title_en
            assert 5.0 < a.value < 100.0 and f"+{a.value:.0f}%" in a.title_zh
            assert set(a.sensor_ids) >= {"A1-pm25", "A1-pm10"}
    assert raised_at is not None and 1440 < raised_at <= 1440 + 45
    # the ramp has ended (plateau from +180 min): the CUSUM drains and the alert clears
    assert not [a for a in service.store.alerts(state=ACTIVE) if a.type == "air_rise"]
