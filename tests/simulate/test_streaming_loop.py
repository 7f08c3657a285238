"""The streaming loop on AioTransport's own event loop: real HTTP, retries after an outage, scaled time."""

from __future__ import annotations

from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver
from harness.simulate import Outages, SimConfig, run_simulation
from harness.transport.aio import AioTransport
from tests.simulate._helpers import CATALOG


def test_scaled_time_with_real_http_delivers_every_event_once_after_the_outage() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:  # the scaled clock's waits pass on a fake monotonic clock
        now[0] += seconds

    provider = CATALOG.get("stripe")  # retries at +1m, +6m, ...
    with ReferenceReceiver(provider) as rx, AioTransport(concurrency=8) as transport:
        config = SimConfig(
            provider,
            event_count=30,
            spread=600.0,
            outages=Outages([(0.0, 120.0)]),
            url=rx.url,
            credentials=rx.credentials,
            dry_run=False,
            probe=make_probe(rx.probe_url),
            time_scale=60.0,
            sleep=sleep,
            monotonic=lambda: now[0],
        )
        result = run_simulation(config, transport=transport)
    assert result.delivered == 30 and result.lost == 0 and result.exit_code == 0
    # the attempts during the outage never reach the wire; each retry after it succeeds once
    assert result.attempts > 30 and result.requests == 30
    assert now[0] > 0  # time passed in scaled steps, not in real sleeps
