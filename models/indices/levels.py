"""Emergency levels I–IV (突发事件分级) shared by the UI and the alert rules.

Event level, response level, warning level and colour are aligned row by row, which is
the usual convention in emergency plans (DOMAIN.md §6.1); a plan may define otherwise.
Colour hex codes are this project's display choice (the law names only the colours).

>>> from models.indices.levels import EmergencyLevel, LEVELS
>>> LEVELS[EmergencyLevel.II].colour.name.en
'orange'
>>> accident_level(deaths=4).name
'III'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

from models.indices.labels import Colour, Label


class EmergencyLevel(IntEnum):
    """Ⅰ is the most severe; the integer value sorts so that smaller = more severe."""

    I = 1  # noqa: E741 - the official name of the level
    II = 2
    III = 3
    IV = 4


@dataclass(frozen=True, slots=True)
class LevelInfo:
    """Everything a screen or a rule needs to show one level."""

    level: EmergencyLevel
    roman: str
    event: Label
    response: Label
    warning: Label
    colour: Colour


LEVELS: dict[EmergencyLevel, LevelInfo] = {
    EmergencyLevel.I: LevelInfo(
        EmergencyLevel.I,
        "Ⅰ",
        Label("特别重大", "Especially major"),
        Label("Ⅰ级响应", "Level I response"),
        Label("一级预警", "Level 1 warning"),
        Colour.from_hex("#E60000", Label("红色", "red")),
    ),
    EmergencyLevel.II: LevelInfo(
        EmergencyLevel.II,
        "Ⅱ",
        Label("重大", "Major"),
        Label("Ⅱ级响应", "Level II response"),
        Label("二级预警", "Level 2 warning"),
        Colour.from_hex("#FF8C00", Label("橙色", "orange")),
    ),
    EmergencyLevel.III: LevelInfo(
        EmergencyLevel.III,
        "Ⅲ",
        Label("较大", "Relatively major"),
        Label("Ⅲ级响应", "Level III response"),
        Label("三级预警", "Level 3 warning"),
        Colour.from_hex("#FFD700", Label("黄色", "yellow")),
    ),
    EmergencyLevel.IV: LevelInfo(
        EmergencyLevel.IV,
        "Ⅳ",
        Label("一般", "General"),
        Label("Ⅳ级响应", "Level IV response"),
        Label("四级预警", "Level 4 warning"),
        Colour.from_hex("#1E6FD9", Label("蓝色", "blue")),
    ),
}

# State Council Order 493 Art. 3 thresholds, most severe first:
# (level, deaths >=, serious injuries >=, direct loss CNY >=).  "以上" is inclusive.
_ACCIDENT_THRESHOLDS: tuple[tuple[EmergencyLevel, int, int, float], ...] = (
    (EmergencyLevel.I, 30, 100, 100e6),
    (EmergencyLevel.II, 10, 50, 50e6),
    (EmergencyLevel.III, 3, 10, 10e6),
)


def accident_level(
    deaths: int = 0, serious_injuries: int = 0, direct_loss_cny: float = 0.0
) -> EmergencyLevel:
    """Grade a production-safety accident (生产安全事故) by its worst criterion.

    Any one criterion reaching a band is enough (e.g. 3 deaths alone makes 较大), as in
    Order 493; below every band the accident is 一般 (IV).

    >>> accident_level(serious_injuries=50)
    <EmergencyLevel.II: 2>
    """
    for name, value in (
        ("deaths", deaths),
        ("serious_injuries", serious_injuries),
        ("direct_loss_cny", direct_loss_cny),
    ):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    for level, d, s, loss in _ACCIDENT_THRESHOLDS:
        if deaths >= d or serious_injuries >= s or direct_loss_cny >= loss:
            return level
    return EmergencyLevel.IV
