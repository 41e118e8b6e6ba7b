"""Pure builders of the /alerts page: cue rule, rows, every catalog key they use exists."""

from __future__ import annotations

import pytest

from alerts.model import ACTIONS, Alert
from layouts import alerts as view
from layouts.messages import LANGUAGES
from tests.alerts.conftest import T0


def _doc(level: int = 2, ack: bool = False, state: str = "active", **kw: object) -> dict:  # type: ignore[type-arg]
    a = Alert.new(f"ALT-{level}{int(ack)}{state}", "water_pressure", "city", "WN-1", level,
                  "<b>低压</b>", "Low", ("P1",), 119.3, 26.08, "350102", T0,
                  state=state, acknowledged=ack)
    return {**a.as_json(), **kw}


def test_cue_only_for_active_unacknowledged_level_one_or_two():
    assert view.needs_cue([_doc(2)])
    assert view.needs_cue([_doc(1)])
    assert not view.needs_cue([_doc(3), _doc(2, ack=True), _doc(1, state="cleared")])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_queue_rows_keep_text_and_mark_selection(lang):
    docs = [_doc(2), _doc(4, ack=True), _doc(3, state="cleared")]
    table = view.queue(docs, docs[0]["id"], lang)
    rows = table.children[1].children
    assert len(rows) == 3 and "selected" in rows[0].className and "lvl-2" in rows[0].className
    assert rows[0].id == {"type": "alerts-row", "index": docs[0]["id"]}
    title_cell = rows[0].children[1].children
    assert title_cell == ("<b>低压</b>" if lang == "zh-CN" else "Low")  # a plain string


@pytest.mark.parametrize("lang", LANGUAGES)
def test_detail_and_every_timeline_action_render(lang):
    timeline = [{"ts": T0, "actor": "op", "action": a, "detail": {"from": 4, "to": 3}}
                for a in ACTIONS]
    out = view.detail(_doc(3), timeline, lang)
    assert out.children[0].children in ("<b>低压</b>", "Low")
    assert view.detail(None, [], lang).children
    view.summary([_doc(1), _doc(4)], lang)
    view.actions(lang)
    view.login_form(lang)
    assert len(view.filter_options(lang)) == 4
