import json

import plotly

from layouts.messages import CATALOG, LANGUAGES
from layouts.status import DomainRow, SensorRow, StatusView, render


def _view() -> StatusView:
    return StatusView(
        status="ok", counters={"readings_in": 1234, "scored": 1200}, newest_age_s=0.4,
        domains=[DomainRow("air", 240, 230, 3, 1)], dead_letters={"non_finite": 7},
        top=[SensorRow("<script>alert(1)</script>", "pm25", "350102", 80.0, 0.9, "spike")],
        now_ms=1_700_000_000_000,
    )


def _text(lang: str) -> str:
    return json.dumps(render(_view(), lang), cls=plotly.utils.PlotlyJSONEncoder,
                      ensure_ascii=False)


def test_every_catalog_entry_has_both_languages() -> None:
    for key, entry in CATALOG.items():
        assert set(entry) == set(LANGUAGES), key


def test_status_page_renders_in_both_languages() -> None:
    zh, en = _text("zh-CN"), _text("en")
    assert "各领域传感器" in zh and "Sensors by domain" in en
    assert "1,234" in en and "non_finite" in en


def test_hostile_sensor_id_is_plain_text_not_markup() -> None:
    # Dash renders children strings as text nodes; the id must stay a string child.
    assert '"children": "<script>alert(1)</script>"' in _text("en")


def test_empty_tables_say_so() -> None:
    v = _view()
    empty = StatusView(status=v.status, counters=v.counters, newest_age_s=v.newest_age_s,
                       domains=v.domains, dead_letters={}, top=[], now_ms=v.now_ms)
    zh = json.dumps(render(empty, "zh-CN"), cls=plotly.utils.PlotlyJSONEncoder,
                    ensure_ascii=False)
    assert "无死信" in zh and "暂无异常评分" in zh
    assert "无死信" not in _text("zh-CN")  # rows present: no empty note
