"""The UI message catalog: every user-facing string, in zh-CN (default) and English.

Layouts call :func:`t` with a key; a missing key fails loudly in tests rather than
showing a raw key to an operator.

>>> t("status.title", "en")
'System status'
"""

from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

CATALOG: dict[str, dict[str, str]] = {
    "app.title": {"zh-CN": "城市运行指挥中心", "en": "City Operations Command Center"},
    "status.title": {"zh-CN": "系统运行状态", "en": "System status"},
    "status.pipeline": {"zh-CN": "数据管道", "en": "Pipeline"},
    "status.state": {"zh-CN": "状态", "en": "Status"},
    "status.ok": {"zh-CN": "正常", "en": "OK"},
    "status.stale": {"zh-CN": "数据停滞", "en": "Stale"},
    "status.starting": {"zh-CN": "启动中", "en": "Starting"},
    "status.newest_age": {"zh-CN": "最新数据时延", "en": "Newest reading age"},
    "status.seconds": {"zh-CN": "秒", "en": "s"},
    "counter.produced": {"zh-CN": "已产生读数", "en": "Readings produced"},
    "counter.readings_in": {"zh-CN": "已接收读数", "en": "Readings in"},
    "counter.scored": {"zh-CN": "已评分", "en": "Scored"},
    "counter.pushed": {"zh-CN": "已推送", "en": "Pushed"},
    "counter.dead_lettered": {"zh-CN": "死信", "en": "Dead-lettered"},
    "status.domains": {"zh-CN": "各领域传感器", "en": "Sensors by domain"},
    "status.domain": {"zh-CN": "领域", "en": "Domain"},
    "status.sensors": {"zh-CN": "传感器数", "en": "Sensors"},
    "status.reporting": {"zh-CN": "在报", "en": "Reporting"},
    "status.anomalous": {"zh-CN": "异常 (评分≥0.5)", "en": "Anomalous (score ≥ 0.5)"},
    "status.faulty": {"zh-CN": "故障", "en": "Faulty"},
    "status.dead_letters": {"zh-CN": "死信原因", "en": "Dead letters by reason"},
    "status.reason": {"zh-CN": "原因", "en": "Reason"},
    "status.count": {"zh-CN": "数量", "en": "Count"},
    "status.top_anomalies": {"zh-CN": "异常评分最高的传感器", "en": "Most anomalous sensors"},
    "status.sensor": {"zh-CN": "传感器", "en": "Sensor"},
    "status.metric": {"zh-CN": "指标", "en": "Metric"},
    "status.value": {"zh-CN": "数值", "en": "Value"},
    "status.score": {"zh-CN": "异常评分", "en": "Anomaly score"},
    "status.fault": {"zh-CN": "故障类型", "en": "Fault"},
    "status.district": {"zh-CN": "区县", "en": "District"},
    "status.updated": {"zh-CN": "更新于", "en": "Updated"},
    "domain.traffic": {"zh-CN": "交通", "en": "Traffic"},
    "domain.air": {"zh-CN": "空气质量", "en": "Air quality"},
    "domain.water": {"zh-CN": "供水", "en": "Water"},
    "domain.hazard": {"zh-CN": "危险源", "en": "Hazard sources"},
    "domain.unit": {"zh-CN": "应急单位", "en": "Units"},
    "lang.switch": {"zh-CN": "English", "en": "中文"},
}


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for ``key`` in ``lang`` (falls back to zh-CN for an unknown language)."""
    entry = CATALOG[key]
    return entry.get(lang) or entry[DEFAULT_LANGUAGE]
