"""Emergency levels I–IV and production-accident grading."""

from __future__ import annotations

import pytest

from models.indices.levels import LEVELS, EmergencyLevel, accident_level


def test_table_complete_and_ordered() -> None:
    assert list(LEVELS) == sorted(EmergencyLevel)
    assert [LEVELS[lv].colour.name.en for lv in EmergencyLevel] == [
        "red", "orange", "yellow", "blue"]
    assert [LEVELS[lv].event.zh for lv in EmergencyLevel] == ["特别重大", "重大", "较大", "一般"]
    assert LEVELS[EmergencyLevel.I].roman == "Ⅰ"
    assert EmergencyLevel.I < EmergencyLevel.IV  # smaller = more severe


@pytest.mark.parametrize(
    ("kwargs", "level"),
    [({"deaths": 30}, 1), ({"deaths": 29}, 2), ({"deaths": 10}, 2), ({"deaths": 9}, 3),
     ({"deaths": 3}, 3), ({"deaths": 2}, 4), ({"serious_injuries": 100}, 1),
     ({"serious_injuries": 99}, 2), ({"serious_injuries": 50}, 2),
     ({"serious_injuries": 49}, 3), ({"serious_injuries": 10}, 3),
     ({"serious_injuries": 9}, 4), ({"direct_loss_cny": 100e6}, 1),
     ({"direct_loss_cny": 99.9e6}, 2), ({"direct_loss_cny": 10e6}, 3),
     ({"direct_loss_cny": 9.99e6}, 4), ({}, 4), ({"deaths": 1, "serious_injuries": 60}, 2)],
)
def test_accident_levels(kwargs: dict[str, float], level: int) -> None:
    assert accident_level(**kwargs) == EmergencyLevel(level)  # type: ignore[arg-type]


def test_accident_invalid() -> None:
    with pytest.raises(ValueError):
        accident_level(deaths=-1)
    with pytest.raises(ValueError):
        accident_level(direct_loss_cny=float("nan"))
