"""Water-zone physics features feeding the asset detector (synthetic, seeded zone)."""

from __future__ import annotations

import numpy as np
import pytest

from models.anomaly.multivariate import AssetDetector, MultivariateConfig
from models.anomaly.multivariate_water import WaterZoneFeatures

NAMES = ["L_T1", "F_PU1", "S_PU1", "F_PU2", "S_PU2", "P_J1", "F_PU3", "S_PU3"]


def make_zone(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One tank filled by PU1 (PLC: on below 1 m, off above 3 m), PU2 on in the day, PU3 idle."""
    rng = np.random.default_rng(seed)
    hours = np.arange(n) % 24
    x = np.zeros((n, len(NAMES)))
    level, on = 2.0, 1.0
    for t in range(n):
        demand = 30 + 15 * np.sin(2 * np.pi * (hours[t] - 6) / 24) + rng.normal(0, 2)
        if level < 1.0:
            on = 1.0
        elif level > 3.0:
            on = 0.0
        f1 = on * (60 + rng.normal(0, 1))
        day = 1.0 if 7 <= hours[t] < 19 else 0.0
        f2 = day * (20 + rng.normal(0, 1))
        level += (f1 + 0.3 * f2 - demand) * 0.01
        x[t] = [level, f1, on, f2, day, 40 + 0.2 * f1 + rng.normal(0, 0.5), 0.0, 0.0]
    return x, hours


@pytest.fixture(scope="module")
def zone_model() -> tuple[WaterZoneFeatures, AssetDetector]:
    x, h = make_zone(3000, seed=1)
    zone = WaterZoneFeatures(NAMES)
    feats = zone.fit_transform(x, h)
    det = AssetDetector(zone.feature_names, MultivariateConfig(lags=1, alpha=0.99)).fit(feats)
    return zone, det


def test_features_found_by_name_and_constants_dropped(zone_model) -> None:
    zone, _ = zone_model
    names = zone.feature_names
    assert {"pump:PU1", "pump:PU2", "dL:T1", "mass:T1", "plc:PU1", "hour:F_PU1"} <= set(names)
    assert "F_PU3" not in names and "pump:PU3" not in names  # constant in normal data


def test_feature_stream_equals_batch(zone_model) -> None:
    zone, _ = zone_model
    x, h = make_zone(100, seed=2)
    zone.reset()
    batch = zone.transform(x, h)
    zone.reset()
    rows = np.vstack([zone.transform(x[i], h[i : i + 1]) for i in range(len(x))])
    zone.reset()
    np.testing.assert_array_equal(rows, batch)


def test_replayed_status_without_flow_is_named(zone_model) -> None:
    zone, det = zone_model
    x, h = make_zone(400, seed=3)
    x_att = x.copy()
    x_att[200:260, 2] = 1.0  # status replayed "on" ...
    x_att[200:260, 1] = 0.0  # ... while no water flows
    zone.reset()
    det.reset()
    out = det.detect_batch(zone.transform(x_att, h))
    att = slice(200, 260)
    assert np.mean(out["statistic"][att] >= 1.0) > 0.9
    assert np.mean(out["statistic"][20:200] >= 1.0) < 0.05
    top1 = [det.variable_names[j] for j in out["top_vars"][att, 0]]
    assert np.mean([n.endswith("PU1") for n in top1]) > 0.9
