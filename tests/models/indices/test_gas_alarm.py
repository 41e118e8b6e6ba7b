"""GB/T 50493 gas and oxygen alarm levels."""

from __future__ import annotations

import numpy as np
import pytest

from models.indices.gas_alarm import (
    ALARM_NAMES,
    AlarmLevel,
    OxygenStatus,
    alarm_level_codes,
    combustible_alarm,
    oxygen_status,
    toxic_alarm,
)


@pytest.mark.parametrize(("lel", "level"), [(0.0, 0), (24.9, 0), (25.0, 1), (49.9, 1),
                                            (50.0, 2), (100.0, 2)])
def test_combustible_defaults(lel: float, level: int) -> None:
    assert combustible_alarm(lel) == AlarmLevel(level)


def test_combustible_custom_setpoints_within_caps() -> None:
    assert combustible_alarm(20.0, first=20, second=40) == AlarmLevel.FIRST
    assert combustible_alarm(40.0, first=20, second=40) == AlarmLevel.SECOND
    with pytest.raises(ValueError, match="caps"):
        combustible_alarm(10.0, first=30, second=50)
    with pytest.raises(ValueError):
        combustible_alarm(10.0, first=25, second=20)


@pytest.mark.parametrize(("conc", "level"), [(9.99, 0), (10.0, 1), (19.9, 1), (20.0, 2)])
def test_toxic_oel(conc: float, level: int) -> None:
    assert toxic_alarm(conc, reference=10.0) == AlarmLevel(level)  # OEL 10 ppm


def test_toxic_idlh_basis() -> None:
    # IDLH 100 ppm: 5 % -> 5 ppm, 10 % -> 10 ppm
    assert toxic_alarm(4.9, 100.0, basis="idlh") == AlarmLevel.NORMAL
    assert toxic_alarm(5.0, 100.0, basis="idlh") == AlarmLevel.FIRST
    assert toxic_alarm(10.0, 100.0, basis="idlh") == AlarmLevel.SECOND
    with pytest.raises(ValueError):
        toxic_alarm(1.0, 100.0, basis="idlh", first_pct=50.0, second_pct=100.0)
    with pytest.raises(ValueError):
        toxic_alarm(1.0, 0.0)


@pytest.mark.parametrize(("o2", "status"), [(19.4, 1), (19.5, 1), (19.6, 0), (20.9, 0),
                                            (23.4, 0), (23.5, 2), (float("nan"), -1)])
def test_oxygen(o2: float, status: int) -> None:
    assert oxygen_status(o2) == OxygenStatus(status)


def test_invalid_readings() -> None:
    assert combustible_alarm(float("nan")) == AlarmLevel.INVALID
    assert combustible_alarm(-2.0) == AlarmLevel.INVALID
    assert alarm_level_codes(np.array([np.inf, 30.0]), 25, 50).tolist() == [-1, 1]
    assert ALARM_NAMES[AlarmLevel.SECOND].zh == "二级报警"
