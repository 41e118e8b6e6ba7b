"""App-shell messages: the page menu."""

MESSAGES: dict[str, dict[str, str]] = {
    "nav.menu": {"zh-CN": "页面", "en": "Pages"},
    "nav.wall": {"zh-CN": "城市态势总览", "en": "City wall"},
    "nav.dispatch": {"zh-CN": "应急调度", "en": "Emergency dispatch"},
    "nav.alerts": {"zh-CN": "告警处置", "en": "Alert queue"},
    "nav.status": {"zh-CN": "系统运行状态", "en": "System status"},
}
