"""simulate with lifecycles: objects' steps arrive with reordering noise; a state probe counts wrong final states."""

from __future__ import annotations

import pytest

from harness.catalog import load_catalog
from harness.cli import main
from harness.probes.state import make_state_probe
from harness.receiver import ReferenceReceiver
from harness.simulate import simulate
from harness.simulate.objects import lifecycle_units

LIFECYCLE = load_catalog().get("stripe").lifecycle("subscription")


def test_without_noise_each_objects_steps_arrive_in_order_and_with_noise_some_do_not() -> None:
    units, plan = lifecycle_units(LIFECYCLE, 50, 3600.0, 0.0, 300.0, seed=3)
    assert len(units) == 150 and sorted(plan) == [(o, s) for o in range(50) for s in range(3)]
    arrival = [u.arrival for u in units]
    assert arrival == sorted(arrival)
    order: dict[int, list[int]] = {}
    for obj, step in plan:
        order.setdefault(obj, []).append(step)
    assert all(steps == [0, 1, 2] for steps in order.values())
    _, noisy = lifecycle_units(LIFECYCLE, 50, 3600.0, 0.5, 600.0, seed=3)
    reordered: dict[int, list[int]] = {}
    for obj, step in noisy:
        reordered.setdefault(obj, []).append(step)
    assert any(steps != [0, 1, 2] for steps in reordered.values())


def test_a_dry_run_of_a_lifecycle_counts_its_events() -> None:
    result = simulate("stripe", events=30, lifecycle="subscription", out_of_order=0.3, dry_run=True, seed=1)
    assert result.events == 30 and result.delivered == 30 and result.exit_code == 0 and result.objects_checked == 0


@pytest.mark.parametrize(("bug", "wrong"), [(None, False), ("last-arrival-wins", True)])
def test_after_an_outage_the_report_counts_objects_in_the_wrong_state(bug: str | None, wrong: bool) -> None:
    with ReferenceReceiver("stripe", bug=bug) as rx:
        result = simulate(
            "stripe", rx.url, events=60, spread="1h", outages=["10m..30m"], lifecycle="subscription",
            out_of_order=0.4, credentials=rx.credentials, state_probe=make_state_probe(rx.state_url), seed=2,
        )  # fmt: skip
    assert result.objects == 20 and result.objects_checked == 20
    assert bool(result.objects_wrong) is wrong and result.exit_code == (1 if wrong else 0)
    report = result.to_json()["objects"]
    assert report["wrong_state"] == len(result.objects_wrong)
    if wrong:
        assert "ended in the wrong state" in result.render()


def test_the_cli_takes_the_lifecycle_and_state_options(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("stripe") as rx:
        code = main(
            ["simulate", "stripe", rx.url, "--secret", rx.credentials.secret or "", "--events", "30",
             "--spread", "1h", "--lifecycle", "subscription", "--out-of-order", "0.3", "--state-url", rx.state_url,
             "--quiet"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "objects: 10 of 10 fully delivered objects read, every one in its final state" in out


def test_an_unknown_lifecycle_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "stripe", "--dry-run", "--lifecycle", "nope"]) == 2
    assert "Unknown lifecycle" in capsys.readouterr().err
