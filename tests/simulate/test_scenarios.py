"""Every scenario in scenarios/ runs as a test: dry from the CLI, and over HTTP against the reference receiver."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.probes.counts import make_probe
from harness.receiver import ReferenceReceiver
from harness.simulate import Outages, RetryPolicy, SimConfig, load_scenario, run_simulation
from harness.transport.aio import AioTransport
from tests.simulate._helpers import CATALOG

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))
IDS = [p.stem for p in SCENARIOS]


def test_the_required_scenarios_exist() -> None:
    assert {
        "sendgrid-employee-survey",
        "jira-ticket-lifecycle",
        "teams-chatbot-burst",
        "oci-object-uploads",
    } <= set(IDS)


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_dry_run_from_the_cli_meets_the_scenarios_expectation(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = load_scenario(path)
    code = main(["simulate", scenario.provider, "--dry-run", "--quiet", "--scenario", str(path)])
    out = capsys.readouterr().out
    assert code == scenario.expect.get("exit_code", 0), out
    assert f"scenario {scenario.name}" in out and "longest outage this policy survives" in out
    if "lost" in scenario.expect:
        assert f"lost {scenario.expect['lost']:,} " in out


@pytest.mark.parametrize("path", SCENARIOS, ids=IDS)
def test_over_http_against_the_reference_receiver_matches_the_dry_run(path: Path) -> None:
    """A healthy receiver: the same deliveries and losses as the dry run, and every event stored exactly once."""
    scenario = load_scenario(path)
    provider = CATALOG.get(scenario.provider)
    policy = RetryPolicy.from_profile(provider, scenario.retry)
    workload = scenario.workload(provider, 40)
    dry = run_simulation(SimConfig(provider, policy, workload=workload, outages=Outages(scenario.outages)))
    with ReferenceReceiver(provider) as rx, AioTransport(concurrency=16) as transport:
        config = SimConfig(
            provider,
            policy,
            workload=workload,
            outages=Outages(scenario.outages),
            url=rx.url,
            credentials=rx.credentials,
            dry_run=False,
            probe=make_probe(rx.probe_url),
            seed=scenario.seed,
        )
        result = run_simulation(config, transport=transport)
    assert (result.delivered, result.lost, result.attempts) == (dry.delivered, dry.lost, dry.attempts)
    assert result.requests > 0 and result.probe_checked > 0 and result.probe_mismatches == []
    assert result.exit_code == (1 if dry.lost else 0)
