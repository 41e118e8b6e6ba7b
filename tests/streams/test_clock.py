from streams.clock import ManualClock, ScaledClock


def test_scaled_clock_runs_faster_than_the_wall() -> None:
    wall = ManualClock(1_000)
    c = ScaledClock(start_ms=50_000, speed=10, wall=wall)
    assert c.now_ms() == 50_000
    wall.advance(1_000)
    assert c.now_ms() == 60_000
