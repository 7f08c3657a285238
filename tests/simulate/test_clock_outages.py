"""Clocks (virtual and scaled) and outage windows."""

from __future__ import annotations

import pytest

from harness.errors import UsageError
from harness.simulate import Outages, ScaledClock, SimConfig, VirtualClock, parse_outage, run_simulation
from tests.simulate._helpers import CATALOG, H, policy


def test_virtual_clock_jumps_and_never_goes_back() -> None:
    clock = VirtualClock()
    assert clock.advance_to(86_400.0) and clock.now == 86_400.0
    assert clock.advance_to(10.0) and clock.now == 86_400.0 and clock.ready(1e12)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_scaled_clock_waits_scaled_real_time_within_its_budget() -> None:
    fake = FakeTime()
    clock = ScaledClock(3600.0, max_wall=10.0, monotonic=fake.monotonic, sleep=fake.sleep)
    assert not clock.ready(3600.0)
    assert clock.advance_to(3600.0) and fake.slept == [1.0]  # an hour at 3600x is a second
    assert clock.advance_to(7200.0) and fake.slept == [1.0, 1.0]
    assert not clock.advance_to(20 * 3600.0)  # due after the 10 s budget: stop, without waiting
    assert fake.slept == [1.0, 1.0]
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_a_soak_run_stops_at_its_budget_and_reports_the_rest_as_pending() -> None:
    fake = FakeTime()
    config = SimConfig(
        CATALOG.get("github"),
        policy("github"),
        event_count=100,
        spread=H,
        time_scale=60.0,
        max_wall=30.0,
        sleep=fake.sleep,
        monotonic=fake.monotonic,
    )
    result = run_simulation(config)
    assert 0 < result.delivered < 100 and result.pending == 100 - result.delivered and result.exit_code == 1
    assert sum(fake.slept) <= 30.0


def test_outage_parsing() -> None:
    assert parse_outage("2h..8h") == (2 * H, 8 * H)
    assert parse_outage("..30m") == (0.0, 1800.0)
    assert parse_outage("90s..2d") == (90.0, 172_800.0)
    assert parse_outage("1h30m..2h0m30s") == (5400.0, 7230.0)


@pytest.mark.parametrize(
    ("text", "needle"),
    [("2h", "START..END"), ("8h..2h", "after the start"), ("x..y", "durations"), ("2h..", "durations")],
)
def test_bad_outages_say_how_to_write_one(text: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_outage(text)


def test_outages_merge_and_answer_down() -> None:
    outages = Outages([(30, 40), (0, 10), (5, 20)])
    assert outages.windows == [(0, 20), (30, 40)]
    assert outages.down(0) and outages.down(19.9) and not outages.down(20) and outages.down(35)
    assert not outages.down(-1) and not outages.down(40)
