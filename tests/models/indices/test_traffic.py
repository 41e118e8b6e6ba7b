"""Traffic performance index, levels, speed bands and network aggregation."""

from __future__ import annotations

import numpy as np
import pytest

from models.indices.traffic import (
    SPEED_THRESHOLDS,
    TRAFFIC_LEVELS,
    delay_time_proportion,
    speed_level_codes,
    tpi_from_dtp,
    tpi_from_times,
    traffic_level,
    traffic_level_codes,
    travel_time_index,
    weighted_tpi,
)


def test_tti_and_dtp() -> None:
    tti = travel_time_index([200.0, 100.0, 50.0], [100.0, 100.0, 100.0])
    np.testing.assert_allclose(tti, [2.0, 1.0, 0.5])
    np.testing.assert_allclose(delay_time_proportion(tti), [0.5, 0.0, 0.0])


@pytest.mark.parametrize(("dtp", "tpi"), [(0.0, 0.0), (0.15, 1.0), (0.3, 2.0), (0.4, 3.0),
                                          (0.5, 4.0), (0.55, 5.0), (0.6, 6.0), (0.65, 7.0),
                                          (0.7, 8.0), (0.85, 9.0), (1.0, 10.0)])
def test_annex_c_bands_interpolated(dtp: float, tpi: float) -> None:
    assert float(tpi_from_dtp(dtp)) == pytest.approx(tpi, abs=1e-12)


def test_tpi_from_times_known_ttis() -> None:
    # TTI 2.0 -> DTP 0.5 -> TPI 4; TTI 2.5 -> DTP 0.6 -> 6; TTI 10 -> DTP 0.9 -> 9.33
    got = tpi_from_times([200.0, 250.0, 1000.0, 90.0], [100.0, 100.0, 100.0, 100.0])
    np.testing.assert_allclose(got, [4.0, 6.0, 8 + 2 * 0.2 / 0.3, 0.0])


def test_bad_times_are_nan() -> None:
    got = tpi_from_times([np.nan, 100.0, -1.0, 100.0], [100.0, 0.0, 100.0, np.inf])
    assert np.isnan(got).all()


@pytest.mark.parametrize(("tpi", "level", "zh"), [(0.0, 1, "畅通"), (1.999, 1, "畅通"),
                                                  (2.0, 2, "基本畅通"), (3.999, 2, "基本畅通"),
                                                  (4.0, 3, "轻度拥堵"), (6.0, 4, "中度拥堵"),
                                                  (7.999, 4, "中度拥堵"), (8.0, 5, "严重拥堵"),
                                                  (10.0, 5, "严重拥堵")])
def test_levels(tpi: float, level: int, zh: str) -> None:
    lv = traffic_level(tpi)
    assert lv.level == level and lv.name.zh == zh


def test_level_names_and_colours() -> None:
    assert [lv.name.en for lv in TRAFFIC_LEVELS] == [
        "Smooth", "Basically smooth", "Lightly congested", "Moderately congested",
        "Severely congested"]
    assert TRAFFIC_LEVELS[0].colour.rgb[1] > TRAFFIC_LEVELS[0].colour.rgb[0]  # green
    assert TRAFFIC_LEVELS[-1].colour.hex == "#A50026"


def test_level_out_of_range() -> None:
    with pytest.raises(ValueError):
        traffic_level(10.5)
    with pytest.raises(ValueError):
        traffic_level(float("nan"))
    assert traffic_level_codes([np.nan, -1.0, 5.0]).tolist() == [0, 0, 3]


@pytest.mark.parametrize("road", sorted(SPEED_THRESHOLDS))
def test_speed_bands_lower_open_upper_closed(road: str) -> None:
    t = SPEED_THRESHOLDS[road]
    eps = 1e-6
    for i, thr in enumerate(t):
        # exactly at a threshold belongs to the slower level (upper bound closed)
        assert speed_level_codes([thr], road)[0] == i + 2
        assert speed_level_codes([thr + eps], road)[0] == i + 1
    assert speed_level_codes([0.0], road)[0] == 5


def test_speed_examples_by_class() -> None:
    got = speed_level_codes([66, 65, 50.5, 35, 21, 20], "expressway").tolist()
    assert got == [1, 2, 2, 4, 4, 5]
    assert speed_level_codes([41, 40, 30, 20, 15], "arterial").tolist() == [1, 2, 3, 4, 5]
    assert speed_level_codes([36, 25, 15, 10, np.nan], "branch").tolist() == [1, 3, 4, 5, 0]
    with pytest.raises(KeyError):
        speed_level_codes([10.0], "motorway")


def test_weighted_tpi_by_vehicle_km() -> None:
    # weights = length * volume = 2*100, 1*400 -> (2*200 + 8*400)/600 = 6
    assert float(weighted_tpi([2.0, 8.0], [2.0, 1.0], [100.0, 400.0])) == pytest.approx(6.0)


def test_weighted_tpi_groups_and_nan() -> None:
    tpi = [2.0, 8.0, np.nan, 5.0, 1.0]
    length = [1.0, 1.0, 5.0, 2.0, 0.0]
    out = weighted_tpi(tpi, length, groups=[0, 0, 0, 1, 2], n_groups=4)
    np.testing.assert_allclose(out, [5.0, 5.0, np.nan, np.nan])
    assert np.isnan(weighted_tpi([np.nan], [1.0]))
