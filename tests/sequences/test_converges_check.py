"""The converges check: `check` and the pytest plugin run the lifecycles when a state probe is given."""

from __future__ import annotations

import pytest

from harness.cli import main
from harness.credentials import ENV_VARS
from harness.engine.runner import RunConfig, run_checks
from harness.probes.state import make_state_probe
from harness.receiver import BUGS, ReferenceReceiver


def _converges(rx: ReferenceReceiver, *, state: bool = True) -> tuple[str, list[str], str]:
    config = RunConfig(
        provider=rx.provider.id,
        url=rx.url,
        credentials=rx.credentials,
        seed=5,
        max_examples=4,
        settle_timeout=0.2,
        checks=["converges"],
        state_probe=make_state_probe(rx.state_url) if state else None,
    )
    (outcome,) = run_checks(config).outcomes
    return outcome.status, outcome.notes, "\n".join(v.render() for v in outcome.violations)


def test_the_ordering_bugs_are_in_the_catalogue_and_name_converges() -> None:
    for name in ("last-arrival-wins", "resurrects-deleted", "dedupe-by-event-type", "lost-update"):
        assert BUGS[name].fails == {"converges"}


def test_a_correct_receiver_converges_and_a_last_arrival_one_does_not() -> None:
    with ReferenceReceiver("stripe") as rx:
        status, notes, _ = _converges(rx)
    assert status == "passed" and any("subscription:" in n and "converged" in n for n in notes)
    with ReferenceReceiver("stripe", bug="last-arrival-wins") as rx:
        status, _, text = _converges(rx)
    assert status == "failed" and "minimal failing schedule, 3 deliveries" in text and "Reproduce:" in text


def test_without_a_state_probe_converges_is_skipped_with_the_reason() -> None:
    with ReferenceReceiver("stripe") as rx:
        status, notes, _ = _converges(rx, state=False)
    assert status == "skipped" and "--state-url" in notes[0]


def test_check_takes_the_state_probe_options(capsys: pytest.CaptureFixture[str]) -> None:
    with ReferenceReceiver("stripe", bug="resurrects-deleted") as rx:
        code = main(
            ["check", "stripe", rx.url, "--secret", rx.credentials.secret or "", "--state-url", rx.state_url,
             "--check", "converges", "--max-examples", "4", "--settle-timeout", "200ms", "--seed", "2"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1 and "converges" in out and "FAILED" in out and "(no such object)" not in out


def test_the_pytest_plugin_gets_a_converges_item(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReferenceReceiver("stripe", bug="last-arrival-wins") as rx:
        monkeypatch.setenv(ENV_VARS["secret"], rx.credentials.secret or "")
        result = pytester.runpytest_subprocess(
            "--webhook-url", rx.url, "--webhook-provider", "stripe", "--webhook-state-url", rx.state_url,
            "--webhook-check", "converges", "--webhook-max-examples", "4", "--webhook-settle-timeout", "200ms",
            "-p", "no:cacheprovider", "-v",
        )  # fmt: skip
    text = result.stdout.str()
    assert "test_contract[stripe-converges] FAILED" in text and "minimal failing schedule" in text
    assert result.ret == 1
