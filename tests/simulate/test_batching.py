"""SendGrid batching: a POST every 30 s, or as soon as the batch reaches 768 KB; windows stay per event."""

from __future__ import annotations

import pytest

from harness.simulate import BatchPlan, Outages, SimConfig, Unit, batch_events, run_simulation
from harness.simulate.workload import Workload
from tests.simulate._helpers import CATALOG, H, policy


def test_flushes_every_interval() -> None:
    flushes, starts = batch_events([1.0, 2.0, 29.9, 30.0, 75.0], 30.0, 100)
    assert list(flushes) == [30.0, 60.0, 90.0] and list(starts) == [0, 3, 4]


def test_a_full_batch_is_posted_when_its_last_event_arrives() -> None:
    flushes, starts = batch_events([1.0, 2.0, 3.0, 4.0, 5.0], 30.0, 2)
    assert list(flushes) == [2.0, 4.0, 30.0] and list(starts) == [0, 2, 4]


def test_the_plan_comes_from_the_profile() -> None:
    plan = BatchPlan.for_provider(CATALOG.get("sendgrid"))
    assert plan.interval == 30.0 and plan.max_bytes == 768 * 1024
    assert 100 < plan.event_bytes < 5_000
    assert plan.max_events == int((768 * 1024 - 4) // plan.event_bytes)
    with pytest.raises(ValueError):
        batch_events([1.0], 0.0, 1)


def test_a_burst_is_split_by_size_and_one_day_by_time() -> None:
    provider = CATALOG.get("sendgrid")
    plan = BatchPlan.for_provider(provider)
    burst = Workload.from_events([i / 1000 for i in range(5 * plan.max_events)], provider, plan=plan)
    assert burst.units == 5 and burst.arrivals[-1] < 30.0
    day = Workload.from_events([i * 86_400 / 10_000 for i in range(10_000)], provider, plan=plan)
    assert day.units == 2_880 and day.events == 10_000 and day.lead == pytest.approx(30.0, abs=9)


def test_the_rolling_window_is_per_event_inside_a_batch() -> None:
    """A batch retried past its oldest event's window delivers the younger events only."""
    provider = CATALOG.get("sendgrid")
    narrow = policy("sendgrid", window="10m", backoff={"delays": ["590s"], "factor": None})
    units = [Unit(30.0, [("open", 0.0), ("open", 29.0)])]
    result = run_simulation(SimConfig(provider, narrow, units=units, outages=Outages([(0, 60)])))
    # retry at 30 s + 9m50s = 620 s: 620 s after the first event (lost), 591 s after the second (delivered)
    assert (result.delivered, result.lost) == (1, 1)
    assert result.lost_by_reason == {"retry window expired": 1}


def test_batched_time_to_delivery_includes_the_flush_wait() -> None:
    provider = CATALOG.get("sendgrid")
    result = run_simulation(SimConfig(provider, policy("sendgrid"), event_count=2_000, spread=H))
    assert result.lost == 0 and 0 < result.time_to_delivery["max"] <= 30.0
