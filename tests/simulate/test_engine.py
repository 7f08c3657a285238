"""The event loop: virtual time, outages, what each attempt carries, the receiver's signals, bounds."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import replace

import pytest

from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.errors import UsageError
from harness.simulate import Outages, SimConfig, Unit, run_simulation, simulate
from tests.simulate._helpers import CATALOG, H, answering, policy


def test_a_day_long_outage_runs_in_well_under_a_second_of_virtual_time() -> None:
    started = time.perf_counter()
    result = simulate("sendgrid", events=20_000, spread="1h", outages=["0s..25h"])
    assert time.perf_counter() - started < 1.0
    assert result.lost == result.events == 20_000  # down past every event's rolling 24 h window
    assert result.lost_by_reason == {"retry window expired": 20_000}
    assert result.attempts == 13 * result.deliveries  # every batch tried its whole schedule


def test_a_six_hour_outage_is_survived_by_sendgrid_and_delays_delivery() -> None:
    result = simulate("sendgrid", events=50_000, outages=["2h..8h"], seed=4)
    assert result.lost == 0 and result.delivered == 50_000
    assert result.deliveries < 3_000  # batched per 30 s flush
    assert 6 * H < result.time_to_delivery["max"] <= 29_700 + 30  # the retry at +8h15m, plus the 30 s flush
    assert sum(result.histogram.values()) == 50_000 and max(result.histogram) > 5


def test_fast_dry_run_and_ordered_loop_agree() -> None:
    """The bulk dry path, the exact-order loop (via --time-scale) and HTTP mode with an always-200 receiver agree."""
    sleeps: list[float] = []
    base = SimConfig(
        CATALOG.get("oci"), policy("oci"), event_count=400, spread=3 * H, outages=Outages([(H, 2.2 * H)]), seed=9
    )
    fast = run_simulation(base)
    ordered = run_simulation(replace(base, time_scale=1e9, sleep=sleeps.append))
    http = run_simulation(replace(base, dry_run=False, url="http://127.0.0.1:9/"), send=answering(lambda d: Reply(200)))
    streamed = run_simulation(replace(base, dry_run=False, url="http://127.0.0.1:9/"), transport=Instant())
    for other in (ordered, http, streamed):
        assert (other.delivered, other.lost, other.attempts, other.histogram) == (
            fast.delivered,
            fast.lost,
            fast.attempts,
            fast.histogram,
        )
    assert fast.lost > 0 and http.requests == fast.delivered  # attempts inside the outage are never sent


class Instant:
    """A transport whose every request has already been answered (``answer``, default 200)."""

    def __init__(self, answer: Reply | None = None) -> None:
        self.answer = answer or Reply(200)
        self.sent = 0

    def submit(self, delivery: Delivery, url: str, *, timeout: float) -> Future[Reply]:
        self.sent += 1
        future: Future[Reply] = Future()
        future.set_result(self.answer)
        return future


def test_streaming_transport_honours_410_and_the_request_bound() -> None:
    gone = Instant(Reply(410))
    config = SimConfig(CATALOG.get("standard"), policy("standard"), event_count=50, dry_run=False, concurrency=4)
    result = run_simulation(config, transport=gone)
    assert result.disabled_at is not None and gone.sent == 4 and result.lost == 50  # the 4 already in flight
    bounded = run_simulation(replace(config, max_requests=7), transport=Instant())
    assert bounded.requests == 7 and bounded.delivered == 7 and bounded.pending == 43


def test_every_attempt_carries_the_same_idempotency_key_and_the_retry_header() -> None:
    seen: list[Delivery] = []

    def reply(delivery: Delivery) -> Reply:
        return Reply(200) if delivery.header("X-Atlassian-Webhook-Retry") == "2" else Reply(503)

    result = run_simulation(
        SimConfig(CATALOG.get("jira"), policy("jira"), event_count=5, dry_run=False), send=answering(reply, seen)
    )
    assert result.delivered == 5 and result.attempts == 15 and result.requests == 15
    by_key: dict[str, list[str | None]] = {}
    for delivery in seen:
        by_key.setdefault(delivery.header("X-Atlassian-Webhook-Identifier") or "", []).append(
            delivery.header("X-Atlassian-Webhook-Retry")
        )
    assert len(by_key) == 5 and all(v == [None, "1", "2"] for v in by_key.values())
    bodies = {d.header("X-Atlassian-Webhook-Identifier"): set() for d in seen}
    for delivery in seen:
        bodies[delivery.header("X-Atlassian-Webhook-Identifier")].add(delivery.body)
    assert all(len(b) == 1 for b in bodies.values())  # the same payload every time


def test_fresh_timestamp_and_signature_where_the_provider_resigns() -> None:
    stamps: list[str] = []
    ticks = iter(range(1_800_000_000, 1_800_001_000, 7))

    def reply(delivery: Delivery) -> Reply:
        stamps.append(delivery.header("Stripe-Signature") or "")
        return Reply(500) if len(stamps) < 3 else Reply(200)

    config = SimConfig(
        CATALOG.get("stripe"),
        policy("stripe"),
        event_count=1,
        dry_run=False,
        credentials=Credentials(secret="whsec_x"),
        clock=lambda: float(next(ticks)),
    )
    run_simulation(config, send=answering(reply))
    assert [s.split(",")[0] for s in stamps] == ["t=1800000000", "t=1800000007", "t=1800000014"]
    assert len({s.split(",")[1] for s in stamps}) == 3


def test_providers_that_sign_once_resend_the_first_signature() -> None:
    seen: list[Delivery] = []
    ticks = iter(range(1_800_000_000, 1_800_001_000, 7))
    config = SimConfig(
        CATALOG.get("shopify"),
        policy("shopify"),
        event_count=1,
        dry_run=False,
        credentials=Credentials(secret="shpss_x"),
        clock=lambda: float(next(ticks)),
    )
    run_simulation(config, send=answering(lambda d: Reply(200) if len(seen) > 2 else Reply(500), seen))
    assert len(seen) == 3 and len({d.header("X-Shopify-Hmac-Sha256") for d in seen}) == 1


def test_slack_retry_headers_name_the_reason() -> None:
    seen: list[Delivery] = []

    def reply(delivery: Delivery) -> Reply:
        if delivery.header("X-Slack-Retry-Num") is None:
            return Reply(0, error="timed out after 3s")
        return Reply(200) if delivery.header("X-Slack-Retry-Num") == "2" else Reply(502)

    run_simulation(
        SimConfig(CATALOG.get("slack"), policy("slack"), event_count=1, dry_run=False, credentials=Credentials("s")),
        send=answering(reply, seen),
    )
    assert [(d.header("X-Slack-Retry-Num"), d.header("X-Slack-Retry-Reason")) for d in seen] == [
        (None, None),
        ("1", "http_timeout"),
        ("2", "http_error"),
    ]


def test_slack_no_retry_is_honoured() -> None:
    result = run_simulation(
        SimConfig(CATALOG.get("slack"), policy("slack"), event_count=4, dry_run=False),
        send=answering(lambda d: Reply(500, {"X-Slack-No-Retry": "1"})),
    )
    assert result.attempts == 4 and result.lost == 4
    assert result.lost_by_reason == {"receiver asked for no retry": 4}


def test_standard_410_disables_the_endpoint() -> None:
    result = run_simulation(
        SimConfig(CATALOG.get("standard"), policy("standard"), event_count=200, dry_run=False, concurrency=10),
        send=answering(lambda d: Reply(410)),
    )
    assert result.disabled_at is not None and result.requests == 10 and result.lost == 200
    assert result.lost_by_reason == {"endpoint disabled": 200}


def test_standard_retry_after_is_honoured() -> None:
    seen: list[Delivery] = []
    stamps: list[float] = []

    def send(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        seen.extend(d for d, _ in items)
        stamps.append(0.0)
        return [Reply(429, {"Retry-After": "3600"}) if len(seen) == 1 else Reply(200) for _ in items]

    result = run_simulation(
        SimConfig(CATALOG.get("standard"), policy("standard"), event_count=1, dry_run=False), send=send
    )
    assert result.delivered == 1 and result.time_to_delivery["max"] == 3600.0  # not the scheduled 5 s


def test_jira_does_not_retry_a_400() -> None:
    result = run_simulation(
        SimConfig(CATALOG.get("jira"), policy("jira"), event_count=3, dry_run=False),
        send=answering(lambda d: Reply(400)),
    )
    assert result.attempts == 3 and result.lost_by_reason == {"failure not retried": 3}


def test_shopify_deletes_the_subscription_once_a_delivery_exhausts_its_retries() -> None:
    result = simulate("shopify", events=500, spread="12h", outages=["1h..6h"])
    assert result.disabled_at is not None and 4 * H < result.disabled_at < 5 * H
    assert result.lost_by_reason["endpoint disabled"] > 0 and result.exit_code == 1
    survived = simulate("shopify", events=500, spread="12h", outages=["1h..3h"])
    assert survived.lost == 0 and survived.disabled_at is None


def test_requests_are_bounded_and_what_was_not_tried_is_pending() -> None:
    result = run_simulation(
        SimConfig(CATALOG.get("github"), policy("github"), event_count=100, dry_run=False, max_requests=30),
        send=answering(lambda d: Reply(200)),
    )
    assert result.requests == 30 and result.delivered == 30 and result.pending == 70 and result.exit_code == 1


def test_time_scale_follows_scaled_real_time_without_real_sleeps() -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    config = SimConfig(
        CATALOG.get("github"),
        policy("github"),
        units=[Unit(t, [("ping", t)]) for t in (0.0, 60.0, 3600.0)],
        time_scale=60.0,
        sleep=sleep,
        monotonic=lambda: now[0],
    )
    result = run_simulation(config)
    assert result.delivered == 3 and now[0] == pytest.approx(60.0)  # an hour at 60x is a minute


def test_nothing_to_simulate_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Nothing to simulate"):
        simulate("github", events=0)
