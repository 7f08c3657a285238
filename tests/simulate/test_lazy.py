"""Dry runs that scale: lazily drawn arrivals, deliveries settled as they arrive, aggregates instead of arrays."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace

import pytest

from harness.errors import UsageError
from harness.simulate import (
    Outages,
    RetryPolicy,
    SimConfig,
    batch_events,
    engine,
    lazy,
    results,
    run_simulation,
    simulate,
)
from harness.simulate import scenario as scenario_module
from harness.simulate.engine import build_workload
from harness.simulate.lazy import stream_batches, uniform_arrivals
from harness.simulate.results import Waits
from harness.simulate.scenario import load_scenario
from tests.simulate._helpers import CATALOG, H, policy

CASES = [
    ("sendgrid", [(0.0, 6 * H)], 20_000, 24 * H),  # batched, delayed by the outage
    ("sendgrid", [(0.0, 25 * H)], 3_000, H),  # batched, every batch past its rolling window
    ("stripe", [(H, 30 * H), (40 * H, 41 * H)], 3_000, 24 * H),  # two outages
    ("oci", [(H, 2.2 * H)], 4_000, 3 * H),  # some retries exhausted
    ("github", [(0.0, H)], 2_000, 2 * H),  # no retries at all
    ("slack", [], 1_000, H),  # no outage
]


@pytest.mark.parametrize(("provider", "outages", "events", "spread"), CASES, ids=[c[0] for c in CASES])
def test_the_lazy_run_reports_exactly_what_the_eager_loop_reports(
    provider: str, outages: list[tuple[float, float]], events: int, spread: float
) -> None:
    """Same seed, same figures, same sampled timeline: the lazy path against the eager loop over the same workload."""
    config = SimConfig(
        CATALOG.get(provider), event_count=events, spread=spread, outages=Outages(outages), seed=7, timeline_samples=50
    )
    lazy_result = run_simulation(config)
    eager_result = run_simulation(replace(config, workload=build_workload(config)))
    got, want = lazy_result.to_json(), eager_result.to_json()
    got.pop("wall_seconds"), want.pop("wall_seconds")
    assert got == want
    assert lazy_result.timeline == eager_result.timeline and lazy_result.timeline


def test_jittered_runs_are_reproducible() -> None:
    """With jitter the draws are made per delivery in arrival order: the same seed gives the same result."""
    jittered = policy("stripe", backoff={"jitter": 0.2})
    config = SimConfig(CATALOG.get("stripe"), jittered, event_count=3_000, outages=Outages([(0, 9 * H)]))
    first, second = run_simulation(config), run_simulation(config)
    assert first.to_json() | {"wall_seconds": 0} == second.to_json() | {"wall_seconds": 0}
    assert first.delivered == 3_000 and len(first.histogram) > 2


def test_arrivals_up_to_the_exact_limit_are_the_eager_sorted_draws() -> None:
    rng = random.Random(3)
    want = sorted(rng.random() * 100.0 for _ in range(300_000))  # more than one sorting chunk
    assert list(uniform_arrivals(300_000, 100.0, random.Random(3))) == want


def test_arrivals_past_the_exact_limit_come_sorted_without_being_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lazy, "EXACT_ARRIVALS", 10)
    times = list(uniform_arrivals(50_000, 10.0, random.Random(1)))
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] < 10.0
    assert times == list(uniform_arrivals(50_000, 10.0, random.Random(1)))
    assert abs(sum(times) / len(times) - 5.0) < 0.1  # uniform: the mean sits in the middle
    assert abs(sum(t < 2.5 for t in times) / len(times) - 0.25) < 0.01


def test_streamed_batches_are_the_eager_batches() -> None:
    rng = random.Random(5)
    times = sorted(rng.random() * 600.0 for _ in range(5_000))
    flushes, starts = batch_events(times, 30.0, 40)  # some intervals fill up before they end
    ends = [*starts[1:], len(times)]
    want = [(flushes[b], times[starts[b] : ends[b]]) for b in range(len(starts))]
    assert list(stream_batches(iter(times), 30.0, 40)) == want


def test_memory_follows_what_is_in_flight_not_the_event_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten times the events (drawn lazily, waits binned: both past their exact limits) take about the same memory."""
    monkeypatch.setattr(lazy, "EXACT_ARRIVALS", 1_000)
    monkeypatch.setattr(results, "EXACT_WAITS", 1_000)

    def peak(events: int) -> int:
        tracemalloc.start()
        try:
            simulate("stripe", events=events, outages=["1h..3h"], spread="24h", seed=2, timeline_samples=50)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(100)  # the catalog, compiled policies and caches: loaded once, outside the measurement
    small, large = peak(8_000), peak(80_000)
    assert large < small + 200_000  # the eager loop held about 60 bytes per event: 5 MB more here


def test_waits_past_the_exact_limit_keep_percentiles_within_a_tenth_of_a_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(9)
    waits = [rng.expovariate(1 / 600) for _ in range(20_000)]
    exact = Waits()
    exact.extend(waits + [0.0] * 5_000)
    monkeypatch.setattr(results, "EXACT_WAITS", 1_000)
    binned = Waits()
    for start in range(0, len(waits), 700):
        binned.extend(waits[start : start + 700])
    binned.zeros += 5_000
    assert binned.exact is None and exact.exact is not None
    want, got = exact.percentiles(), binned.percentiles()
    assert got["max"] == want["max"] == max(waits)
    for key in ("p50", "p90", "p99"):
        assert abs(got[key] - want[key]) <= 0.001 * want[key]


def test_ctrl_c_in_a_lazy_run_keeps_what_was_settled() -> None:
    calls: list[float] = []

    def progress(done: float, horizon: float) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    config = SimConfig(CATALOG.get("stripe"), event_count=70_000, outages=Outages([(0.0, H)]), progress=progress)
    result = run_simulation(config)
    assert result.interrupted and result.exit_code == 130
    assert result.pending == 70_000 - 65_536 and result.delivered + result.lost + result.pending == 70_000


def test_runs_that_hold_every_event_keep_the_old_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "MAX_HELD", 100)
    with pytest.raises(UsageError, match="at most 100 "):
        run_simulation(SimConfig(CATALOG.get("stripe"), event_count=101, time_scale=1e9, sleep=lambda _: None))
    with pytest.raises(UsageError, match="at most 100 "):  # Shopify disables the endpoint: units are not independent
        run_simulation(SimConfig(CATALOG.get("shopify"), event_count=101))
    assert run_simulation(SimConfig(CATALOG.get("stripe"), event_count=101)).delivered == 101  # a plain dry run


def test_event_counts_past_the_bounds_are_one_line_errors() -> None:
    with pytest.raises(UsageError, match="at most 1,000,000,000"):
        simulate("stripe", events=1_000_000_001)
    with pytest.raises(UsageError, match="scenario's entities: 200,000,000; at most 100,000,000"):
        simulate(scenario="scenarios/teams-chatbot-burst.toml", events=200_000_000)
    with pytest.raises(UsageError, match=r"2,000,000 entities x 3 steps: .* holds every event"):  # duplicates
        simulate(scenario="scenarios/oci-object-uploads.toml", events=2_000_000)


SCENARIOS = ["jira-ticket-lifecycle", "oci-object-uploads", "sendgrid-employee-survey", "teams-chatbot-burst"]


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_streamed_scenario_reports_exactly_what_the_eager_loop_reports(name: str) -> None:
    """Scenarios without duplicates stream their events in a dry run: same figures as the eager workload."""
    scenario = replace(load_scenario(f"scenarios/{name}.toml", CATALOG), duplicates=0.0, out_of_order=0.2)
    provider = CATALOG.get(scenario.provider)
    streamed = simulate(scenario=scenario, dry_run=True, timeline_samples=50, events=1_500)
    eager = run_simulation(
        SimConfig(
            provider,
            RetryPolicy.from_profile(provider, scenario.retry),
            workload=scenario.workload(provider, 1_500),
            outages=Outages(scenario.outages),
            seed=scenario.seed,
            timeline_samples=50,
        )
    )
    got, want = streamed.to_json(), eager.to_json()
    got.pop("wall_seconds"), want.pop("wall_seconds")
    assert got == want and streamed.timeline == eager.timeline


def test_past_the_held_bound_a_scenario_streams_its_entities_from_a_heap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start times drawn in order, later steps waiting on a heap: sorted, reproducible, the same kind of run."""
    scenario = replace(load_scenario("scenarios/jira-ticket-lifecycle.toml", CATALOG), duplicates=0.0)
    exact = list(scenario.times(4_000))
    monkeypatch.setattr(scenario_module, "HELD_ENTITIES", 100)
    streamed = list(scenario.times(4_000))
    assert streamed == sorted(streamed) and streamed == list(scenario.times(4_000))
    assert abs(len(streamed) - len(exact)) < 0.05 * len(exact)  # the steps' rates apply alike
    assert abs(sum(streamed) / len(streamed) - sum(exact) / len(exact)) < 0.05 * scenario.arrive_over
