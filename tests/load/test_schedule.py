"""The open-model schedule: counts and spacing, ramps, resends, SendGrid's batching, the storm from the simulator."""

from __future__ import annotations

import itertools

import pytest

from harness.catalog import load_catalog
from harness.errors import UsageError
from harness.load import open_schedule, parse_ramp, storm_schedule
from harness.simulate import RetryPolicy
from harness.simulate.batching import BatchPlan

CATALOG = load_catalog()
GITHUB, SENDGRID, STRIPE = CATALOG.get("github"), CATALOG.get("sendgrid"), CATALOG.get("stripe")


def test_a_constant_rate_is_evenly_spaced_and_exact() -> None:
    schedule = open_schedule(GITHUB, rate=50, duration=3)
    assert schedule.starts == 150 and schedule.units_count == 150 and schedule.target_rate == 50
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(schedule.times)}
    assert gaps == {0.02}
    assert list(schedule.units) == list(range(150)) and set(schedule.attempts) == {1}
    assert schedule.per_second() == [50, 50, 50]


def test_a_ramp_rises_linearly_and_averages_its_ends() -> None:
    schedule = open_schedule(GITHUB, rate=1, duration=10, ramp=(10, 110))
    assert schedule.starts == 600 and schedule.target_rate == 60
    per_second = schedule.per_second()
    assert per_second[0] < 20 and per_second[-1] > 100
    assert all(b >= a - 1 for a, b in itertools.pairwise(per_second))
    assert list(schedule.times) == sorted(schedule.times) and schedule.times[-1] <= 10


def test_duplicates_resend_the_same_delivery_later_within_the_run() -> None:
    schedule = open_schedule(GITHUB, rate=100, duration=5, duplicates=0.2, seed=3)
    resends = [i for i, k in enumerate(schedule.attempts) if k == 2]
    assert 60 <= len(resends) <= 140  # 20% of 500
    first = {u: t for t, u, k in zip(schedule.times, schedule.units, schedule.attempts, strict=True) if k == 1}
    for i in resends:
        assert first[schedule.units[i]] <= schedule.times[i] <= 5
    assert schedule.units_count == 500 and schedule.starts == 500 + len(resends)


def test_sendgrid_batches_per_server_by_flush_interval_and_size_cap() -> None:
    plan = BatchPlan(interval=30.0, max_bytes=786_432, max_events=100, event_bytes=500.0)
    schedule = open_schedule(SENDGRID, rate=20, duration=60, servers=2, batch_plan=plan, seed=1)
    assert schedule.events == 1200 and max(schedule.unit_sizes) <= 100
    # 600 events per server per minute: 2 interval flushes each cannot hold them, so the size cap splits them
    assert schedule.units_count >= 12
    assert all(0 <= t <= 60 for t in schedule.times)
    small = open_schedule(SENDGRID, rate=5, duration=3, servers=1, batch_plan=plan)
    assert small.units_count == 1 and small.events == 15 and small.times[0] == 3  # flushed when the run ends


def test_share_keeps_each_delivery_with_its_resends() -> None:
    schedule = open_schedule(GITHUB, rate=100, duration=2, duplicates=0.5, seed=2)
    parts = [schedule.share(i, 3) for i in range(3)]
    assert sum(p.starts for p in parts) == schedule.starts
    for index, part in enumerate(parts):
        assert {u % 3 for u in part.units} == {index}


@pytest.mark.parametrize("text", ["10", "10..", "a..b", "-1..5", "0..0", "5..inf"])
def test_a_bad_ramp_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match=r"--ramp must be N\.\.M"):
        parse_ramp(text)


def test_bad_rates_and_fractions_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--rate"):
        open_schedule(GITHUB, rate=0, duration=1)
    with pytest.raises(UsageError, match="--duplicates"):
        open_schedule(GITHUB, rate=1, duration=1, duplicates=1.5)
    with pytest.raises(UsageError, match="limit"):
        open_schedule(GITHUB, rate=1_000_000, duration=3600)


def test_the_storm_replays_the_backlog_with_retry_attempts_then_new_traffic() -> None:
    policy = RetryPolicy.from_profile(STRIPE)  # retries at +1m, +6m, +36m, ...
    schedule = storm_schedule(STRIPE, outage=600, rate=2, backlog_rate=1, duration=600, time_scale=10, policy=policy)
    assert schedule.label == "storm" and schedule.duration == 60
    retries = [i for i, k in enumerate(schedule.attempts) if k > 1]
    firsts = [i for i, k in enumerate(schedule.attempts) if k == 1]
    assert len(firsts) == 1200  # the new traffic: 2/s for 600 s
    assert len(retries) > 0 and len({schedule.units[i] for i in retries}) == len(retries)  # one success each
    # every event of the outage's last 10 minutes whose next retry falls in the window comes back as a retry
    assert all(0 <= t < 60 for t in schedule.times)
    assert schedule.target_rate == pytest.approx(schedule.events / 60)


def test_a_storm_is_not_possible_where_the_provider_does_not_retry() -> None:
    with pytest.raises(UsageError, match="does not retry"):
        storm_schedule(GITHUB, outage=600, rate=1, backlog_rate=1, duration=60)
