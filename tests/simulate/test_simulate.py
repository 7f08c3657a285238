"""The retry simulator: policies from the profiles, the virtual clock, outages, scenarios, real HTTP, exit codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.core.models import Delivery, Reply
from harness.errors import ScenarioError, UsageError
from harness.probes import make_probe
from harness.receiver import ReferenceReceiver
from harness.simulate import Outages, RetryPolicy, SimConfig, load_scenario, parse_outage, run_simulation
from harness.transport.aio import AioTransport

CATALOG = load_catalog()
SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))
H = 3600.0
HEAD = 'name = "x"\nprovider = "sendgrid"\n[population]\n'


def policy(provider: str) -> RetryPolicy:
    return RetryPolicy.from_provider(CATALOG.get(provider))


def test_policies_match_the_documented_facts() -> None:
    assert policy("github").schedule() == [0.0]  # no automatic retries
    jira = policy("jira")
    assert len(jira.schedule()) == 6 and jira.retry_headers == {"X-Atlassian-Webhook-Retry": "retry_number"}
    for status in (408, 409, 425, 429, 500, 503):
        assert jira.retryable(status, None)
    for status in (400, 401, 404, 410):
        assert not jira.retryable(status, None)
    assert jira.retryable(0, "connection refused") and jira.retryable(0, "timed out after 20s")
    slack = policy("slack")
    assert len(slack.schedule()) == 4 and "x-slack-no-retry" in slack.honours
    assert set(slack.retry_headers) == {"X-Slack-Retry-Num", "X-Slack-Retry-Reason"}
    assert policy("sendgrid").window == 24 * H and policy("sendgrid").schedule()[-1] <= 24 * H
    oci = policy("oci")
    assert oci.schedule()[:4] == [0.0, 0.0, 60.0, 180.0] and oci.window == 2 * H
    assert policy("stripe").window == 72 * H
    shopify = policy("shopify")
    assert len(shopify.schedule()) == 8 and shopify.schedule()[-1] <= 4 * H
    standard = policy("standard")
    assert {"retry-after", "410-disables"} <= standard.honours
    assert standard.schedule()[1:3] == [5.0, 305.0]


@pytest.mark.parametrize(
    ("provider", "survives"), [("github", 0.0), ("teams", 0.0), ("slack", 360.0), ("oci", 63 * 60.0)]
)
def test_max_survivable_outage(provider: str, survives: float) -> None:
    assert policy(provider).max_survivable_outage() == survives


def test_max_survivable_outage_is_the_real_boundary() -> None:
    """An outage just shorter than the answer loses nothing wherever it starts; just longer loses something."""
    pol = policy("oci")
    span = pol.max_survivable_outage()
    provider = CATALOG.get("oci")
    for start in (0.0, 600.0, 1800.0):
        ok = run_simulation(
            SimConfig(provider, pol, event_count=3000, spread=H, outages=Outages([(start, start + span - 1)]))
        )
        assert ok.lost == 0
    worse = run_simulation(SimConfig(provider, pol, event_count=3000, spread=H, outages=Outages([(0, span + 120)])))
    assert worse.lost > 0


def test_a_24_hour_outage_runs_in_virtual_time() -> None:
    started = time.perf_counter()
    result = run_simulation(
        SimConfig(
            CATALOG.get("sendgrid"), policy("sendgrid"), event_count=20_000, spread=H, outages=Outages([(0, 25 * H)])
        )
    )
    assert time.perf_counter() - started < 10
    assert result.lost == result.events  # down past every event's rolling 24 h window: everything is lost
    assert result.attempts > result.events


def test_outage_parsing() -> None:
    assert parse_outage("2h..8h") == (2 * H, 8 * H)
    assert parse_outage("..30m") == (0.0, 1800.0)
    for bad in ("2h", "8h..2h", "x..y"):
        with pytest.raises(UsageError):
            parse_outage(bad)
    assert Outages([(0, 10), (5, 20), (30, 40)]).windows == [(0, 20), (30, 40)]


def test_http_failures_retry_with_headers_and_honour_signals() -> None:
    """A fake receiver: fails the first attempt, then answers 2xx; records the retry headers it saw."""
    seen: list[dict[str, str]] = []

    def send(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        out = []
        for delivery, _ in items:
            seen.append(dict(delivery.headers))
            retried = delivery.header("X-Atlassian-Webhook-Retry")
            out.append(Reply(200) if retried else Reply(503))
        return out

    result = run_simulation(SimConfig(CATALOG.get("jira"), policy("jira"), event_count=5, dry_run=False), send=send)
    assert result.delivered == 5 and result.attempts == 10
    firsts = [h for h in seen if "X-Atlassian-Webhook-Retry" not in h]
    retries = [h for h in seen if h.get("X-Atlassian-Webhook-Retry") == "1"]
    assert len(firsts) == len(retries) == 5
    ids = {h["X-Atlassian-Webhook-Identifier"] for h in seen}
    assert len(ids) == 5  # the retry carries the same idempotency key


def test_slack_no_retry_and_standard_410() -> None:
    def no_retry(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        return [Reply(500, {"X-Slack-No-Retry": "1"}) for _ in items]

    slack = run_simulation(
        SimConfig(CATALOG.get("slack"), policy("slack"), event_count=4, dry_run=False), send=no_retry
    )
    assert slack.attempts == 4 and slack.lost == 4

    def gone(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        return [Reply(410) for _ in items]

    standard = run_simulation(
        SimConfig(CATALOG.get("standard"), policy("standard"), event_count=200, dry_run=False, concurrency=10),
        send=gone,
    )
    assert standard.disabled_at is not None and standard.requests == 10 and standard.lost == 200


def test_resigned_each_attempt_with_fresh_timestamps() -> None:
    stamps: list[str] = []

    def send(items: list[tuple[Delivery, str]], timeout: float) -> list[Reply]:
        stamps.extend(d.header("Stripe-Signature") or "" for d, _ in items)
        return [Reply(500) if len(stamps) <= 1 else Reply(200) for _ in items]

    from harness.credentials import Credentials

    ticks = iter(range(1_800_000_000, 1_800_000_100, 7))
    config = SimConfig(
        CATALOG.get("stripe"),
        policy("stripe"),
        event_count=1,
        dry_run=False,
        credentials=Credentials(secret="whsec_x"),
        clock=lambda: float(next(ticks)),
    )
    run_simulation(config, send=send)
    assert [s.split(",")[0] for s in stamps] == ["t=1800000000", "t=1800000007"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_dry_run_meets_its_expectation(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(path)
    code = main(["simulate", scenario.provider, "--dry-run", "--scenario", str(path)])
    assert code == scenario.expect.get("exit_code", 0)
    out = capsys.readouterr().out
    assert "longest outage this policy survives" in out
    if "lost" in scenario.expect:
        assert f"lost {scenario.expect['lost']:,} " in out


def test_scenario_against_the_reference_receiver_with_probe(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS[[p.stem for p in SCENARIOS].index("sendgrid-employee-survey")])
    provider = CATALOG.get("sendgrid")
    with ReferenceReceiver(provider) as rx, AioTransport(concurrency=16) as transport:
        config = SimConfig(
            provider,
            policy("sendgrid"),
            units=scenario.units(provider, 200),
            outages=Outages(scenario.outages),
            url=rx.url,
            credentials=rx.credentials,
            dry_run=False,
            probe=make_probe(rx.probe_url),
            seed=1,
        )
        result = run_simulation(config, send=transport.send_many)
    assert result.lost == 0 and result.requests > 0
    assert result.probe_checked > 0 and result.probe_mismatches == []
    assert result.exit_code == 0


def test_duplicates_stored_twice_are_caught_by_the_probe() -> None:
    provider = CATALOG.get("oci")
    with ReferenceReceiver(provider, bug="stores-duplicates") as rx, AioTransport(concurrency=8) as transport:
        config = SimConfig(
            provider,
            policy("oci"),
            event_count=30,
            spread=60,
            url=rx.url,
            credentials=rx.credentials,
            dry_run=False,
            probe=make_probe(rx.probe_url),
            outages=Outages([(0, 30)]),
        )
        config.units = None
        from harness.simulate import Unit

        config.units = [Unit(float(i), [("com.oraclecloud.objectstorage.createobject", float(i))]) for i in range(10)]
        config.units += [Unit(20.0 + i, config.units[i].events, duplicate_of=i) for i in range(3)]
        result = run_simulation(config, send=transport.send_many)
    assert len(result.probe_mismatches) == 3 and result.exit_code == 1


def test_cli_report_timeline_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, timeline = tmp_path / "r.json", tmp_path / "t.html"
    code = main(
        [
            "simulate",
            "slack",
            "--dry-run",
            "--events",
            "500",
            "--outage",
            "1h..2h",
            "--report",
            str(report),
            "--timeline",
            str(timeline),
        ]
    )
    assert code == 1
    data = json.loads(report.read_text())
    assert data["lost"] > 0 and data["max_survivable_outage_seconds"] == 360.0
    assert "<svg" in timeline.read_text() and "#ffcdd2" in timeline.read_text()
    assert main(["simulate", "sendgrid", "--dry-run", "--events", "500", "--outage", "1h..2h"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (HEAD + 'count = 1\narrive_over = "1h"\n', "steps"),
        (
            HEAD + 'count = 0\narrive_over = "1h"\n[[steps]]\nevent = "open"\n',
            "population.count",
        ),
        (
            HEAD + 'count = 1\narrive_over = "1h"\n[[steps]]\nevent = "nope"\n',
            "steps[0].event",
        ),
        (
            HEAD + 'count = 1\narrive_over = "soon"\n[[steps]]\nevent = "open"\n',
            "population.arrive_over",
        ),
        ("name = \n", "line 1"),
    ],
)
def test_bad_scenarios_name_the_file_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value) and needle in str(info.value)


def test_cli_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "sendgrid", "--outage", "8h..2h", "--dry-run"]) == 2
    assert main(["simulate", "sendgrid"]) == 2
    assert main(["simulate", "sendgrid", "--dry-run", "--scenario", "/nope.toml"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3
