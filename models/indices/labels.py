"""Bilingual labels shared by every index table.

User-facing names live here as data (zh-CN + en) so that the UI and alert rules pick a
language at display time instead of hard-coding strings.

>>> from models.indices.labels import Label
>>> Label("优", "Excellent").text("en")
'Excellent'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Label:
    """A name in Simplified Chinese and English."""

    zh: str
    en: str

    def text(self, lang: Lang = "zh") -> str:
        """Return the name in ``lang`` ("zh" for zh-CN, "en" for English)."""
        if lang == "zh":
            return self.zh
        if lang == "en":
            return self.en
        raise ValueError(f"unknown language {lang!r}; use 'zh' or 'en'")


@dataclass(frozen=True, slots=True)
class Colour:
    """A display colour as hex and RGB (the tables publish both)."""

    hex: str
    rgb: tuple[int, int, int]
    name: Label

    @staticmethod
    def from_hex(hex_code: str, name: Label) -> Colour:
        """Build a colour from ``#RRGGBB`` so hex and RGB can never disagree."""
        h = hex_code.lstrip("#")
        if len(h) != 6:
            raise ValueError(f"expected #RRGGBB, got {hex_code!r}")
        rgb = (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
        return Colour(hex="#" + h.upper(), rgb=rgb, name=name)
