from dashboard.health import HealthSnapshot


def _snap(newest: int | None, now: int = 10_000) -> HealthSnapshot:
    return HealthSnapshot(counters={"readings_in": 5, "dead_letter.non_finite": 2},
                          newest_ts_ms=newest, now_ms=now, stale_after_s=5)


def test_status_follows_the_age_of_the_newest_reading() -> None:
    assert _snap(None).status == "starting"
    assert _snap(9_000).status == "ok"
    assert _snap(1_000).status == "stale"


def test_json_has_every_stage_counter() -> None:
    body = _snap(9_000).as_json()
    assert set(body["counters"]) >= {"readings_in", "scored", "pushed", "dead_lettered"}
    assert body["counters"]["readings_in"] == 5 and body["newest_reading_age_s"] == 1.0


def test_prometheus_text_is_well_formed() -> None:
    text = _snap(9_000).as_prometheus()
    assert "citycc_readings_in_total 5\n" in text
    assert "citycc_dead_letter_non_finite_total 2\n" in text
    assert "citycc_up 1\n" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split(" ")) == 2
