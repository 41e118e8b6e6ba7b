"""Bilingual alert titles, built from the indices' own labels (no free-text drift).

>>> title("water_pressure", "鼓楼区", "Gulou District", 1, 0.12, 1)
('供水压力低于0.14 MPa · 鼓楼区', 'Water pressure below 0.14 MPa · Gulou District')
"""

from __future__ import annotations

import math

from models.indices.aqi_china_tables import category_for
from models.indices.gas_alarm import ALARM_NAMES, AlarmLevel

_PLAIN: dict[str, tuple[str, str]] = {
    "congestion": ("严重拥堵", "Severe congestion"),
    "water_pressure": ("供水压力低于0.14 MPa", "Water pressure below 0.14 MPa"),
    "water_quality": ("水质超出GB 5749限值", "Water quality outside GB 5749 limits"),
    "anomaly": ("监测数据异常", "Anomalous readings"),
    "pressure_drop": ("管网压力骤降（疑似爆管）", "Sudden pressure drop (suspected pipe burst)"),
    "speed_drop": ("车速骤降（疑似交通事故）", "Sudden speed drop (suspected accident)"),
    "sensor_fault": ("传感器故障", "Sensor fault"),
    "sensor_stale": ("传感器离线", "Sensor not reporting"),
    "forecast": ("预测将越限（预警）", "Forecast to cross a limit (early warning)"),
    "cap": ("外部预警", "External warning"),
}


def type_name(type_: str, rank: int = 1, value: float = math.nan) -> tuple[str, str]:
    """What happened, in zh and en, for an alert type at a rank (value for AQI)."""
    if type_ == "aqi":
        if math.isfinite(value) and value >= 0:
            k = category_for(int(value)).klass
            return f"空气质量{k.zh}（AQI {value:.0f}）", f"Air quality {k.en} (AQI {value:.0f})"
        return "空气污染", "Air pollution"
    if type_ == "air_rise":
        zh = "颗粒物浓度快速上升（疑似污染过程开始）"
        en = "Particulates rising fast (episode starting?)"
        if math.isfinite(value) and value > 0:
            return (f"{zh}，较30分钟水平+{value:.0f}%",
                    f"{en}, +{value:.0f}% on the 30-min level")
        return zh, en
    if type_ in ("gas_combustible", "gas_toxic"):
        lev = ALARM_NAMES[AlarmLevel.SECOND if rank >= (3 if type_ == "gas_toxic" else 2)
                          else AlarmLevel.FIRST]
        g = ("可燃气体", "Combustible gas") if type_ == "gas_combustible" else ("有毒气体",
                                                                              "Toxic gas")
        return f"{g[0]}{lev.zh}", f"{g[1]} {lev.en.lower()}"
    return _PLAIN.get(type_, (type_, type_))


def title(type_: str, where_zh: str, where_en: str, rank: int, value: float,
          members: int) -> tuple[str, str]:
    """``<what> · <where>`` with ``N处`` / ``N sites`` for area alerts."""
    zh, en = type_name(type_, rank, value)
    if members > 1:
        return f"{zh} · {where_zh}{members}处", f"{en} · {members} sites in {where_en}"
    return f"{zh} · {where_zh}", f"{en} · {where_en}"
