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
    table = view.queue(docs, docs[0]["id"], lang).children[1].children
    rows = table.children[1].children
    assert len(rows) == 3 and "selected" in rows[0].className and "lvl-2" in rows[0].className
    assert rows[0].id == {"type": "alerts-row", "index": docs[0]["id"]}
    title_cell = rows[0].children[1].children
    assert title_cell == ("<b>低压</b>" if lang == "zh-CN" else "Low")  # a plain string


def _texts(node: object) -> list[str]:
    """Every string in a component tree (what the browser would show as text)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, (list, tuple)):
        return [s for c in node for s in _texts(c)]
    return _texts(getattr(node, "children", None) or [])


def test_queue_is_unacknowledged_first_then_newest_first():
    docs = [_doc(1, first_ts=T0 - 5, id="old-I"), _doc(4, first_ts=T0, id="new-IV"),
            _doc(2, ack=True, first_ts=T0 + 9, id="acked"),
            _doc(3, state="cleared", first_ts=T0 + 1, id="cleared")]
    assert [d["id"] for d in view.queue_order(docs)] == ["new-IV", "old-I", "cleared", "acked"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rows_carry_level_and_cue_classes(lang):
    docs = [_doc(1), _doc(2, ack=True), _doc(4)]
    rows = view.queue(docs, None, lang).children[1].children.children[1].children
    assert ["cue" in r.className.split() for r in rows] == [True, False, False]
    assert [r.className.split()[0] for r in rows] == ["lvl-1", "lvl-2", "lvl-4"]


@pytest.mark.parametrize(("lang", "flt", "text"), [
    ("zh-CN", "open", "当前无未结告警"), ("en", "open", "No open alerts"),
    ("en", "sensor", "No open sensor alerts"), ("zh-CN", "all", "暂无告警记录")])
def test_empty_queue_says_so_and_when_it_was_refreshed(lang, flt, text):
    shown = _texts(view.queue([], None, lang, flt, now_ms=T0))
    assert text in shown
    assert any("08:30:00" in s for s in shown)  # T0 is 08:30 Beijing
    assert not any(text in s for s in _texts(view.queue([_doc(3)], None, lang, flt, T0)))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sound_button_shows_state_in_words_and_tooltip(lang):
    on, tip_on, cls_on = view.sound_button(True, lang)
    off, tip_off, cls_off = view.sound_button(False, lang)
    assert _texts(on) != _texts(off) and _texts(on)[0] and tip_on != tip_off
    assert cls_on.endswith(" on") and cls_off.endswith(" off")
    assert on[0].className == "alerts-icon bell-on"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_detail_hint_without_selection_and_every_timeline_action_renders(lang):
    entries = [{"ts": T0, "actor": "op", "action": a, "detail": {"from": 4, "to": 3}}
               for a in ACTIONS]
    doc = _doc(1, district_name="鼓楼区")
    shown = _texts(view.detail(doc, lang))
    assert "<b>低压</b>" in shown or "Low" in shown  # the title, as a plain string
    assert view.level_text(1, lang) in shown and "鼓楼区" in shown and "P1" in shown
    hint = _texts(view.detail(None, lang))
    assert ("选择一条告警" if lang == "zh-CN" else "Select an alert") in hint
    lines = _texts(view.timeline(doc, entries, lang))
    assert len([s for s in lines if s == "op"]) == len(ACTIONS)
    assert any("Ⅳ → Ⅲ" in s for s in lines)
    assert view.timeline(None, [], lang) is None
    view.summary([_doc(1), _doc(4)], lang)
    view.actions(lang)
    view.refreshed(T0, lang)
    view.login_form(lang)
    assert len(view.filter_options(lang)) == 4


def test_actions_start_disabled():
    bar = view.actions("zh-CN")
    buttons = [c for row in bar.children[1:4] for c in row.children
               if type(c).__name__ == "Button"]
    assert len(buttons) == 5 and all(b.disabled for b in buttons)
